//! `citedex completions SHELL` and `citedex man`: the shell completion scripts and the manual
//! pages, generated at run time from the clap definitions of [`Cli`], so they always match the
//! binary that prints them and need no build step.

use std::fs;
use std::path::Path;

use anyhow::Context;
use clap_complete::Shell;

use super::console::Console;
use super::{Outcome, print};
use crate::cli::Cli;

/// The name completions and manual pages give the program.
const PROGRAM: &str = "citedex";

/// Prints the completion script of `shell`.
pub fn completions(shell: Shell) -> anyhow::Result<Outcome> {
    // clap_complete gives up on a failed write with a panic: the script is made in memory, then
    // printed like any other output (a closed pipe is not an error).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), PROGRAM, &mut script);
    print(anstream::ColorChoice::Never, |out| out.write_all(&script))?;
    Ok(Outcome::Found)
}

/// Prints the manual page of `citedex`, or writes it and one page per command (`citedex-search.1`
/// and so on) into `dir`.
pub fn man(dir: Option<&Path>, console: &Console) -> anyhow::Result<Outcome> {
    let Some(dir) = dir else {
        let page = clap_mangen::Man::new(Cli::command());
        print(anstream::ColorChoice::Never, |out| page.render(out))?;
        return Ok(Outcome::Found);
    };
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    clap_mangen::generate_to(Cli::command(), dir)
        .with_context(|| format!("writing into {}", dir.display()))?;
    let commands = Cli::command().get_subcommands().count();
    console.note(format_args!(
        "wrote {PROGRAM}.1 and {commands} pages {PROGRAM}-COMMAND.1 into {}",
        dir.display()
    ));
    Ok(Outcome::Found)
}
