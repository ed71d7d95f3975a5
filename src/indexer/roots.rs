//! The folders an index is built from (its roots), and the name each document is kept under.
//!
//! Roots are recorded as canonical paths, so `notes`, `./notes/` and `/home/me/notes` are one
//! root. A document is named after its file: by the path relative to the folder that holds the
//! index directory when the file lies inside that folder (`notes/a.md` beside `.citedex`), and by
//! its absolute path otherwise. The name depends neither on how the root was spelt nor on the
//! folder citedex runs in, so one file is always one document, and results stay short and
//! relative for the usual layout, an index beside the folders it holds.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use super::BuildError;

/// How the documents of one index are named.
#[derive(Debug, Clone)]
pub struct Naming {
    /// The canonical folder that holds the index directory.
    base: PathBuf,
    /// The canonical index directory, whose files are never documents.
    own: PathBuf,
}

impl Naming {
    /// The naming of the index at `index_dir`, which must exist.
    pub fn of_index(index_dir: &Path) -> io::Result<Naming> {
        let own = fs::canonicalize(index_dir)?;
        let base = own.parent().unwrap_or(Path::new("/")).to_path_buf();
        Ok(Naming { base, own })
    }

    /// The name of the document at `path`, a path under a canonical root.
    pub fn name(&self, path: &Path) -> String {
        encode(self.relative(path))
    }

    /// `path`, a path under a canonical root, as documents are named: relative to the folder
    /// holding the index when inside it.
    pub fn relative<'a>(&self, path: &'a Path) -> &'a Path {
        path.strip_prefix(&self.base).unwrap_or(path)
    }

    /// How to show the folder or file at `path` in a message: its name, `.` for the folder that
    /// holds the index.
    pub fn label(&self, path: &Path) -> String {
        let name = self.name(path);
        if name.is_empty() { ".".to_string() } else { name }
    }

    /// The index directory itself, canonical.
    pub fn own(&self) -> &Path {
        &self.own
    }
}

/// Whether the document named `name` lies in the folder (or is the file) named `scope`; the
/// empty scope, the folder holding the index, holds every relative name.
pub fn within(name: &str, scope: &str) -> bool {
    if scope.is_empty() {
        return !name.starts_with('/');
    }
    match name.strip_prefix(scope) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || scope.ends_with('/'),
        None => false,
    }
}

/// A path as UTF-8 text. Bytes that are not UTF-8 are written `\xHH` and a backslash `\\`, so
/// that two file names never share one name; [`decode`] reverses it.
pub fn encode(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str());
    #[cfg(not(unix))]
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                text.push('\\');
            }
            text.push(c);
        }
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02X}"));
        }
    }
    text
}

/// The path [`encode`] wrote as `text`.
#[cfg(unix)]
pub fn decode(text: &str) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text.as_bytes();
    while let Some((&first, after)) = rest.split_first() {
        rest = after;
        if first != b'\\' {
            bytes.push(first);
            continue;
        }
        let escaped = rest
            .strip_prefix(b"x")
            .and_then(|hex| hex.get(..2))
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                bytes.push(byte);
                rest = &rest[3..];
            }
            None => {
                bytes.push(b'\\');
                rest = rest.strip_prefix(b"\\").unwrap_or(rest);
            }
        }
    }
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

/// The path [`encode`] wrote as `text`.
#[cfg(not(unix))]
pub fn decode(text: &str) -> PathBuf {
    PathBuf::from(text.replace("\\\\", "\\"))
}

/// The canonical path of a folder or file given by the user. A symbolic link to a file is kept as
/// a link in its canonical folder, as a walk of the folder finds it.
pub fn canonical(path: &Path) -> io::Result<PathBuf> {
    let link_to_file = fs::symlink_metadata(path)?.file_type().is_symlink() && !fs::metadata(path)?.is_dir();
    match path.file_name() {
        Some(file) if link_to_file => {
            let folder = path.parent().filter(|parent| !parent.as_os_str().is_empty());
            Ok(fs::canonicalize(folder.unwrap_or(Path::new(".")))?.join(file))
        }
        _ => fs::canonicalize(path),
    }
}

/// `path` made absolute and without `.` and `..`, read as written: for a path that may no longer
/// exist, which cannot be made canonical.
pub fn lexical(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut clean = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

/// What one build walks and records.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The canonical folders and files to walk; none lies inside another.
    pub walk: Vec<PathBuf>,
    /// The roots recorded after the build, in order.
    pub roots: Vec<PathBuf>,
    /// Recorded roots that no longer exist and are kept, with their documents.
    pub missing: Vec<PathBuf>,
    /// Recorded roots that no longer exist and are forgotten, with their documents.
    pub pruned: Vec<PathBuf>,
    /// Whether documents outside every root are removed (an update of all roots).
    pub everything: bool,
}

/// Decides what a build walks: every recorded root when no path is given (`default` when none is
/// recorded yet), else the given paths, each an existing root, a part of one, or a new root (which
/// takes in the roots inside it). A full build walks every root. Missing roots are kept unless
/// `prune`; a full build refuses to drop them silently.
pub fn plan(
    recorded: &[PathBuf],
    given: &[PathBuf],
    default: Option<&Path>,
    full: bool,
    prune: bool,
) -> Result<Plan, BuildError> {
    let (mut roots, pruned): (Vec<PathBuf>, Vec<PathBuf>) =
        recorded.iter().cloned().partition(|root| !prune || root.exists());
    let everything = given.is_empty();
    let given: Vec<&Path> = match (given, default) {
        ([], Some(default)) if recorded.is_empty() && default.exists() => vec![default],
        ([], default) if recorded.is_empty() => {
            return Err(BuildError::NoRoots(default.map(Path::to_path_buf)));
        }
        _ => given.iter().map(PathBuf::as_path).collect(),
    };
    let mut walk = Vec::new();
    for path in given {
        let target = canonical(path).map_err(|_| BuildError::Missing(path.to_path_buf()))?;
        if !roots.iter().any(|root| target.starts_with(root)) {
            roots.retain(|root| !root.starts_with(&target));
            roots.push(target.clone());
        }
        walk.push(target);
    }
    roots.sort();
    roots.dedup();
    let missing: Vec<PathBuf> = roots.iter().filter(|root| !root.exists()).cloned().collect();
    if walk.is_empty() || full {
        if full && let Some(root) = missing.first() {
            return Err(BuildError::MissingRoot(root.clone()));
        }
        walk = roots
            .iter()
            .filter(|root| !missing.contains(root))
            .cloned()
            .collect();
    }
    walk.sort();
    walk.dedup();
    let outermost: Vec<PathBuf> = walk
        .iter()
        .filter(|target| {
            !walk
                .iter()
                .any(|other| other != *target && target.starts_with(other))
        })
        .cloned()
        .collect();
    Ok(Plan {
        walk: outermost,
        roots,
        missing,
        pruned,
        everything: everything || full,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hold_their_scopes_by_whole_components() {
        assert!(within("notes/a.md", "notes"));
        assert!(within("notes", "notes"));
        assert!(!within("notes2/a.md", "notes"));
        assert!(within("notes/a.md", ""));
        assert!(!within("/elsewhere/a.md", ""));
        assert!(within("/a.md", "/"));
        assert!(within("/srv/kb/a.md", "/srv/kb"));
    }

    #[cfg(unix)]
    #[test]
    fn names_differing_only_in_invalid_bytes_stay_apart_and_read_back() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let path = |bytes: &[u8]| PathBuf::from(OsStr::from_bytes(bytes));
        let name = |bytes: &[u8]| encode(&path(bytes));
        assert_eq!(name(b"kb/a\xff.md"), "kb/a\\xFF.md");
        assert_ne!(name(b"kb/a\xff.md"), name(b"kb/a\xfe.md"));
        // A name that spells an escape is not taken for the escaped byte.
        assert_ne!(name(b"kb/a\\xFF.md"), name(b"kb/a\xff.md"));
        assert_eq!(name("kb/café.md".as_bytes()), "kb/café.md");
        for bytes in [&b"kb/a\xff.md"[..], b"kb/a\\xFF.md", b"a\\", "é/\\\\x".as_bytes()] {
            assert_eq!(decode(&encode(&path(bytes))), path(bytes));
        }
    }

    #[test]
    fn a_plan_walks_outermost_folders_and_needs_something_to_walk() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        fs::create_dir_all(root.join("notes/sub")).unwrap();
        let given = [root.join("notes/sub"), root.join("notes")];
        let whole = plan(&[], &given, None, false, false).unwrap();
        assert_eq!(whole.walk, [root.join("notes")]);
        assert_eq!(whole.roots, [root.join("notes")]);
        assert!(!whole.everything);
        // A part of a recorded root is walked alone, and the roots stay as they were.
        let recorded = [root.join("notes")];
        let part = plan(&recorded, &[root.join("notes/sub")], None, false, false).unwrap();
        assert_eq!(
            (part.walk, part.roots),
            (vec![root.join("notes/sub")], recorded.to_vec())
        );
        let missing = root.join("corpus");
        assert!(matches!(
            plan(&[], &[], Some(&missing), false, false),
            Err(BuildError::NoRoots(Some(_)))
        ));
    }

    #[test]
    fn paths_as_written_lose_dots_but_not_links() {
        let here = std::env::current_dir().unwrap();
        assert_eq!(lexical(Path::new("./notes/../notes/")), here.join("notes"));
        assert_eq!(lexical(Path::new("/srv/./kb/sub/..")), Path::new("/srv/kb"));
    }
}
