//! Finding passages: `citedex search` (ranked passages, or only the files that hold them) and
//! `citedex show` (one passage with its neighbours, by id or by `path:line`).

use citedex::{Index, Query, Ranker, SearchOptions};

use super::console::Console;
use super::{Outcome, color_choice, print};
use crate::cli::SearchOutput;
use crate::render;

/// Searches and prints the results as `output` says.
pub fn search(
    index: &Index,
    query: &str,
    output: SearchOutput,
    color: clap::ColorChoice,
    console: &Console,
) -> anyhow::Result<Outcome> {
    let query = Query::parse(query)?;
    let (limit, explain) = match output {
        SearchOutput::Files { limit } => return files(index, &query, limit, color, console),
        SearchOutput::Text { limit, explain } | SearchOutput::Json { limit, explain } => (limit, explain),
    };
    let results = index.search(&query, &SearchOptions { limit, explain })?;
    tell_notes(&results.notes, console);
    print(color_choice(color), |out| match output {
        SearchOutput::Json { .. } => render::json(out, &results),
        _ => render::search_results(out, &results),
    })?;
    Ok(found_if(!results.results.is_empty()))
}

/// Prints the files holding matching passages, best first: the best `limit`, or all of them.
fn files(
    index: &Index,
    query: &Query,
    limit: Option<usize>,
    color: clap::ColorChoice,
    console: &Console,
) -> anyhow::Result<Outcome> {
    let limit = limit.unwrap_or(index.info().documents).max(1);
    let ranked = index.rank_documents(query, limit, Ranker::Citedex)?;
    tell_notes(&ranked.notes, console);
    print(color_choice(color), |out| {
        render::files(out, ranked.documents.iter().map(|(path, _)| path.as_str()))
    })?;
    Ok(found_if(!ranked.documents.is_empty()))
}

/// Tells the notes on how the query was read (a typo corrected, nothing matched).
fn tell_notes(notes: &[impl std::fmt::Display], console: &Console) {
    for note in notes {
        console.note(note);
    }
}

/// Prints the passage `target` names (an id, `path#N`, or a place, `path:LINE`) with up to
/// `context` neighbours in its section on each side.
pub fn show(
    index: &Index,
    target: &str,
    context: usize,
    json: bool,
    color: clap::ColorChoice,
    console: &Console,
) -> anyhow::Result<Outcome> {
    let Some(found) = index.passage_in_context(target, context)? else {
        console.note(format_args!(
            "no passage {target:?} in the index; give an id as search shows it (path#N) or path:LINE"
        ));
        return Ok(Outcome::NoMatch);
    };
    print(color_choice(color), |out| {
        if json {
            render::json(out, &render::Shown::new(&found))
        } else {
            render::shown(out, &found)
        }
    })?;
    Ok(Outcome::Found)
}

fn found_if(found: bool) -> Outcome {
    if found { Outcome::Found } else { Outcome::NoMatch }
}
