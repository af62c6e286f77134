//! The charm as Lucky sees it: its folder and its lucky.yaml.

pub mod bases;
pub mod build;
pub mod checks;
pub mod cron;
pub mod error;
pub mod example;
pub mod lucky_yaml;
pub mod lxd_profile;
pub mod metadata;
pub mod pack;
pub mod release_identity;
pub mod template;
