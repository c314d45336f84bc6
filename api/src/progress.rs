//! The progress bar of the long commands (rebuild, check, export, verify): hidden when the
//! output is JSON for a script.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `total` events, labelled `label`; hidden when `json`.
pub fn bar(total: u64, json: bool, label: &str) -> ProgressBar {
    let bar = if json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total)
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{prefix:>10} {elapsed_precise} [{bar:40}] {pos}/{len} events ({per_sec})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar
}
