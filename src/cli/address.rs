//! `lucky private-address` / `public-address`.

use super::output::{self, Format};
use super::{CliResult, request_value};
use crate::protocol::Request;

pub(crate) fn run(public: bool) -> CliResult {
    output::print(&request_value(Request::Address { public })?, Format::Plain);
    Ok(())
}
