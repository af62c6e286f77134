//! `lucky random`: needs no daemon.

use super::{CliResult, Failure};

#[derive(clap::Args)]
pub(crate) struct RandomArgs {
    /// Length of a random alphanumeric string
    #[arg(short, long, conflicts_with_all = ["range", "available_port"])]
    pub(crate) length: Option<usize>,
    /// A random integer in LOW..=HIGH (a float in LOW..HIGH with --float)
    #[arg(short, long, num_args = 2, value_names = ["LOW", "HIGH"], allow_negative_numbers = true)]
    pub(crate) range: Option<Vec<f64>>,
    #[arg(short, long, requires = "range")]
    pub(crate) float: bool,
    /// A TCP port that is free on this machine now (with --range, one in LOW..=HIGH)
    #[arg(short = 'p', long, conflicts_with_all = ["length", "float"])]
    pub(crate) available_port: bool,
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_u64() -> Result<u64, Failure> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
    Ok(u64::from_le_bytes(bytes))
}

/// A free TCP port in `low..=high`: tried from a random one onwards, wrapping around.
fn free_port_in(low: f64, high: f64) -> Result<u16, Failure> {
    let port = |v: f64| (v.fract() == 0.0 && (1.0..=65535.0).contains(&v)).then_some(v as u16);
    let (Some(low), Some(high)) = (port(low), port(high)) else {
        return Err(
            format!("invalid port range {low} {high}: give two ports from 1 to 65535").into(),
        );
    };
    if low > high {
        return Err(format!("invalid port range {low} {high}: LOW must not exceed HIGH").into());
    }
    let span = u64::from(high - low) + 1;
    let start = random_u64()? % span;
    for i in 0..span {
        let candidate = low + ((start + i) % span) as u16;
        if std::net::TcpListener::bind(("0.0.0.0", candidate)).is_ok() {
            return Ok(candidate);
        }
    }
    Err(format!("cannot find a free port in {low}..={high}: every one is in use").into())
}

pub(crate) fn run(args: RandomArgs) -> CliResult {
    if args.available_port
        && let Some(range) = &args.range
    {
        println!("{}", free_port_in(range[0], range[1])?);
        return Ok(());
    }
    if args.available_port {
        let listener = std::net::TcpListener::bind(("0.0.0.0", 0))
            .map_err(|e| format!("cannot find a free port: {e}"))?;
        let port = listener
            .local_addr()
            .map_err(|e| format!("cannot find a free port: {e}"))?
            .port();
        println!("{port}");
        return Ok(());
    }
    if let Some(range) = args.range {
        let (low, high) = (range[0], range[1]);
        if !(low.is_finite() && high.is_finite()) || low > high {
            return Err(format!("invalid range {low} {high}: LOW must not exceed HIGH").into());
        }
        // 53 random bits give a uniform float in [0, 1).
        let unit = (random_u64()? >> 11) as f64 / (1u64 << 53) as f64;
        if args.float {
            println!("{}", low + unit * (high - low));
        } else {
            let (low, high) = (low.ceil() as i64, high.floor() as i64);
            if low > high {
                return Err("the range holds no integer".into());
            }
            let span = (high - low) as u64 + 1;
            println!("{}", low + (random_u64()? % span) as i64);
        }
        return Ok(());
    }
    let length = args.length.unwrap_or(24);
    let mut out = String::with_capacity(length);
    while out.len() < length {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness available: {e}"))?;
        // Rejection sampling keeps every character equally likely.
        out.extend(
            bytes
                .iter()
                .filter(|&&b| (b as usize) < ALPHABET.len() * 4)
                .map(|&b| ALPHABET[b as usize % ALPHABET.len()] as char)
                .take(length - out.len()),
        );
    }
    println!("{out}");
    Ok(())
}
