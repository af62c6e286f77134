//! The charm as Lucky sees it: its folder and its lucky.yaml.

pub mod lucky_yaml;
