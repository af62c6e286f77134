//! The charm as Lucky sees it: its folder and its lucky.yaml.

pub(crate) mod bases;
pub mod build;
pub(crate) mod checks;
pub(crate) mod cron;
pub(crate) mod error;
pub(crate) mod example;
pub mod lucky_yaml;
pub(crate) mod lxd_profile;
pub(crate) mod metadata;
pub(crate) mod pack;
pub(crate) mod release_identity;
pub(crate) mod template;
