//! The end of a run: the table of hooks, then relations, ports, containers and the pages
//! they serve.

use super::error::RunError;

use super::Runner;
use super::{probe, table};
use std::collections::BTreeMap;

impl Runner {
    pub(super) fn summary(&self) -> Result<(), RunError> {
        if self.steps.is_empty() {
            return Ok(());
        }
        println!("\n==> summary of {}", self.unit);
        let mut rows = vec![row(["step", "exit", "unit status after"])];
        for s in &self.steps {
            rows.push(vec![
                s.name.clone(),
                s.exit_code.to_string(),
                s.status.clone(),
            ]);
        }
        table::print(&rows);
        let Ok(model) = self.model() else {
            return Ok(());
        };
        let state = model.state().map_err(RunError::Simulator)?;
        println!();
        if state.data.relations.is_empty() {
            println!("  relations: none");
        }
        for (id, rel) in &state.data.relations {
            println!("  relation {id} ({} ↔ {})", rel.endpoint, rel.remote_app);
            println!(
                "    {} sends: {}",
                self.unit,
                bag_text(&rel.local_unit_data)
            );
            if !rel.local_app_data.is_empty() {
                println!("    app sends: {}", bag_text(&rel.local_app_data));
            }
            for (unit, bag) in &rel.remote_units {
                println!("    {unit} sends: {}", bag_text(bag));
            }
        }
        let ports = &state.data.opened_ports;
        println!(
            "  opened ports: {}",
            if ports.is_empty() {
                "none".into()
            } else {
                ports.join(", ")
            }
        );
        self.containers_summary()
    }

    /// The unit's containers, and the page each running one serves on a TCP port.
    fn containers_summary(&self) -> Result<(), RunError> {
        let Some(engine) = &self.engine else {
            return Ok(());
        };
        let containers = engine.containers(&self.unit)?;
        if containers.is_empty() {
            println!("  containers: none");
            return Ok(());
        }
        let mut rows = vec![row(["container", "image", "state", "ports"])];
        for c in &containers {
            let ports: Vec<String> = c
                .ports
                .iter()
                .map(|(h, p, proto)| format!("{h}->{p}/{proto}"))
                .collect();
            rows.push(vec![
                c.name.clone(),
                c.image.clone(),
                c.state.clone(),
                ports.join(", "),
            ]);
        }
        println!();
        table::print(&rows);
        for c in containers.iter().filter(|c| c.state == "running") {
            for (host_port, _, proto) in &c.ports {
                if proto != "tcp" {
                    continue;
                }
                let url = format!("http://127.0.0.1:{host_port}/");
                match probe::fetch_page(*host_port) {
                    Ok((status, text)) => println!("  {url}: {status}: {text}"),
                    Err(e) => println!("  {url}: no answer ({e})"),
                }
            }
        }
        Ok(())
    }
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.map(String::from).to_vec()
}

fn bag_text(bag: &BTreeMap<String, String>) -> String {
    if bag.is_empty() {
        return "nothing".into();
    }
    bag.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}
