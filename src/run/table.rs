//! Plain-text tables for the summary: left-aligned columns, a rule under the header.

/// The lines of `rows` (the first is the header), each indented by two spaces.
pub(super) fn render(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut lines = Vec::with_capacity(rows.len() + 1);
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(s, w)| format!("{s:<w$}"))
            .collect();
        lines.push(format!("  {}", cells.join("  ").trim_end()));
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            lines.push(format!("  {}", rule.join("  ")));
        }
    }
    lines
}

pub(super) fn print(rows: &[Vec<String>]) {
    for line in render(rows) {
        println!("{line}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align_to_the_widest_cell_counting_characters() {
        let rows: Vec<Vec<String>> = [["step", "exit"], ["install", "0"], ["é", "12"]]
            .iter()
            .map(|r| r.iter().map(|s| s.to_string()).collect())
            .collect();
        assert_eq!(
            super::render(&rows),
            [
                "  step     exit",
                "  -------  ----",
                "  install  0",
                "  é        12"
            ]
        );
    }
}
