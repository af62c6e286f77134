//! The daemon's log: a file in the unit's data dir, plus stderr in the foreground.

use anyhow::{Context, Result, bail};
use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

pub fn level_from_env() -> Result<LevelFilter> {
    match std::env::var("LUCKY_LOG_LEVEL") {
        Err(_) => Ok(LevelFilter::INFO),
        Ok(v) => match v.to_ascii_lowercase().as_str() {
            "" | "info" => Ok(LevelFilter::INFO),
            "trace" => Ok(LevelFilter::TRACE),
            "debug" => Ok(LevelFilter::DEBUG),
            "warn" | "warning" => Ok(LevelFilter::WARN),
            "error" => Ok(LevelFilter::ERROR),
            "off" => Ok(LevelFilter::OFF),
            _ => bail!("LUCKY_LOG_LEVEL={v:?} is not one of trace, debug, info, warn, error, off"),
        },
    }
}

pub fn init(data_dir: &Path, level: LevelFilter, to_stderr: bool) -> Result<()> {
    let path = data_dir.join("lucky.log");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot open the daemon log {}", path.display()))?;
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false);
    let result = if to_stderr {
        builder
            .with_writer(Mutex::new(file).and(std::io::stderr))
            .try_init()
    } else {
        builder.with_writer(Mutex::new(file)).try_init()
    };
    // Already initialised (in-process tests) is fine.
    let _ = result;
    Ok(())
}
