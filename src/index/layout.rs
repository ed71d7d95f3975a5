//! The index directory on disk and what citedex may do to it. A citedex index directory holds a
//! marker file that proves citedex made it, the `CURRENT` file naming the live generation, the
//! writers' `lock`, and generations (`gen-*`, each a tantivy index with a marker of its own and a
//! `readers` file that searches hold a shared lock on). Everything is private to its owner:
//! folders 0700, files 0600, whatever the umask.
//!
//! citedex deletes only what it can prove it created: a folder that is not empty and holds no
//! marker is refused, and only generations holding their marker are ever removed, and only when
//! no reader holds them.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tantivy::Directory;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    DirectoryLock, FileHandle, Lock, MmapDirectory, WatchCallback, WatchHandle, WritePtr,
};

use super::IndexError;

/// The file whose presence proves that citedex made the directory.
const MARKER_FILE: &str = "citedex-index";
/// What the marker file says: the format id of the directory layout.
const MARKER_TEXT: &str = "citedex index directory, layout 2\n";
/// The file naming the live generation.
const CURRENT_FILE: &str = "CURRENT";
/// The file whose lock marks a writer at work.
const LOCK_FILE: &str = "lock";
/// Prefix of generation directories.
const GENERATION_PREFIX: &str = "gen-";
/// The file inside a generation that proves citedex made it.
const GENERATION_MARKER: &str = "citedex-generation";
/// The file inside a generation that searches hold a shared lock on while they read it.
const READERS_FILE: &str = "readers";
/// Names an index directory of an earlier layout holds; such a directory is adopted.
const EARLIER_LAYOUT_NAMES: [&str; 3] = [CURRENT_FILE, "CURRENT.tmp", LOCK_FILE];

/// An index directory whose write lock this process holds; dropping it releases the lock.
pub(crate) struct Locked {
    root: PathBuf,
    _lock: File,
}

/// A generation held open for reading: while this lives, no writer removes it.
pub(crate) struct ReaderHold {
    _readers: File,
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> IndexError + '_ {
    move |source| IndexError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Whether `root` holds a citedex index with a live generation (it may still fail to open, and
/// a `CURRENT` that is not a readable file says the index is damaged, not absent).
pub(crate) fn exists(root: &Path) -> bool {
    root.join(CURRENT_FILE).symlink_metadata().is_ok()
}

/// Makes `root` an index directory if it is not one yet (creating it, or adopting an empty folder
/// or an index of an earlier layout), refusing any other folder, and takes its write lock, failing
/// at once if another process holds it.
pub(crate) fn lock(root: &Path) -> Result<Locked, IndexError> {
    claim(root)?;
    let path = root.join(LOCK_FILE);
    let file = open_private(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Locked {
            root: root.to_path_buf(),
            _lock: file,
        }),
        Err(fs::TryLockError::WouldBlock) => Err(IndexError::Locked(root.to_path_buf())),
        Err(fs::TryLockError::Error(source)) => Err(IndexError::Io { path, source }),
    }
}

/// Creates `root` or proves it is citedex's, and makes it private.
fn claim(root: &Path) -> Result<(), IndexError> {
    let marker = root.join(MARKER_FILE);
    match fs::read_to_string(&marker) {
        Ok(text) if text == MARKER_TEXT => return make_private_dir(root),
        Ok(_) => return Err(IndexError::NotAnIndex(root.to_path_buf())),
        // Creating the folder below says what stands in the way, if anything.
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) => {}
        Err(source) => return Err(IndexError::Io { path: marker, source }),
    }
    create_private_dir(root)?;
    let names: Vec<String> = fs::read_dir(root)
        .map_err(io_error(root))?
        .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<Result<_, _>>()
        .map_err(io_error(root))?;
    let earlier_layout = !names.is_empty()
        && names.iter().any(|name| name == CURRENT_FILE)
        && names.iter().all(|name| {
            EARLIER_LAYOUT_NAMES.contains(&name.as_str())
                || (name.starts_with(GENERATION_PREFIX) && root.join(name).join("meta.json").is_file())
        });
    if !names.is_empty() && !earlier_layout {
        return Err(IndexError::NotAnIndex(root.to_path_buf()));
    }
    if earlier_layout {
        // The generations of an earlier citedex are its own: marking them lets them be replaced.
        for name in names.iter().filter(|name| name.starts_with(GENERATION_PREFIX)) {
            mark_generation(&root.join(name))?;
        }
    }
    make_private_dir(root)?;
    write_private(&marker, MARKER_TEXT.as_bytes())
}

impl Locked {
    /// The index directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a new, empty generation directory and returns its name.
    pub(crate) fn new_generation(&self) -> Result<String, IndexError> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let name = format!("{GENERATION_PREFIX}{stamp:x}-{}", std::process::id());
        let path = self.root.join(&name);
        create_private_dir(&path)?;
        mark_generation(&path)?;
        Ok(name)
    }

    /// Makes `generation` the live one: `CURRENT` is replaced by rename, so a reader sees either
    /// the old name or the new one. Whatever stands in the way under that name (a folder, say) is
    /// moved aside, never deleted.
    pub(crate) fn publish(&self, generation: &str) -> Result<(), IndexError> {
        let current = self.root.join(CURRENT_FILE);
        if current.symlink_metadata().is_ok_and(|meta| !meta.is_file()) {
            let aside = self
                .root
                .join(format!("{CURRENT_FILE}.unreadable-{}", std::process::id()));
            fs::rename(&current, &aside).map_err(io_error(&current))?;
        }
        let pending = self.root.join(format!("{CURRENT_FILE}.tmp"));
        write_private(&pending, generation.as_bytes())?;
        fs::rename(&pending, &current).map_err(io_error(&current))?;
        // Where a folder can be synced, the rename is then durable.
        if let Ok(dir) = File::open(&self.root) {
            let _ = dir.sync_all();
        }
        Ok(())
    }

    /// Removes the generations citedex made other than `keep`, except those a reader still holds
    /// (they go on a later run). Best effort: what cannot be removed now is tried again later.
    pub(crate) fn remove_generations_except(&self, keep: Option<&str>) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if !name.starts_with(GENERATION_PREFIX)
                || Some(name.as_str()) == keep
                || !path.join(GENERATION_MARKER).is_file()
            {
                continue;
            }
            // A generation without a readers file was never opened for reading.
            let readers = OpenOptions::new().read(true).open(path.join(READERS_FILE));
            let held = match &readers {
                Ok(file) => file.try_lock().is_err(),
                Err(_) => false,
            };
            if !held {
                // The exclusive lock stays taken while the folder goes, so no reader slips in.
                let _ = fs::remove_dir_all(&path);
            }
        }
    }
}

/// The name in `CURRENT`, or `None` when there is no index.
pub(crate) fn current_generation(root: &Path) -> Result<Option<String>, IndexError> {
    let path = root.join(CURRENT_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound && !exists(root) => return Ok(None),
        Err(error) => {
            return Err(IndexError::Corrupt {
                path: root.to_path_buf(),
                detail: format!("{CURRENT_FILE} cannot be read: {error}"),
            });
        }
    };
    let name = std::str::from_utf8(&bytes).map(str::trim).unwrap_or_default();
    let valid = name.starts_with(GENERATION_PREFIX)
        && name[GENERATION_PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(IndexError::Corrupt {
            path: root.to_path_buf(),
            detail: format!("{CURRENT_FILE} does not name a generation"),
        });
    }
    Ok(Some(name.to_string()))
}

/// Takes a shared hold on `generation` so that no writer removes it while it is read; fails when
/// the generation is gone or being removed.
pub(crate) fn hold(root: &Path, generation: &str) -> io::Result<ReaderHold> {
    let dir = root.join(generation);
    if !dir.join(GENERATION_MARKER).is_file() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "generation removed"));
    }
    let readers = File::open(dir.join(READERS_FILE))?;
    match readers.try_lock_shared() {
        Ok(()) => Ok(ReaderHold { _readers: readers }),
        Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            "generation being removed",
        )),
        Err(fs::TryLockError::Error(error)) => Err(error),
    }
}

/// A tantivy directory over a generation whose files are created private to the user.
pub(crate) fn generation_directory(root: &Path, generation: &str) -> Result<PrivateDirectory, IndexError> {
    let path = root.join(generation);
    let inner = MmapDirectory::open(&path).map_err(|error| IndexError::Corrupt {
        path: root.to_path_buf(),
        detail: error.to_string(),
    })?;
    Ok(PrivateDirectory { path, inner })
}

/// tantivy's memory-mapped directory, but every file it writes is made 0600 at once (inside a
/// 0700 folder, nobody else can reach it in between).
#[derive(Debug, Clone)]
pub(crate) struct PrivateDirectory {
    path: PathBuf,
    inner: MmapDirectory,
}

impl PrivateDirectory {
    fn restrict(&self, file: &Path) -> io::Result<()> {
        set_mode(&self.path.join(file), 0o600)
    }
}

impl Directory for PrivateDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let writer = self.inner.open_write(path)?;
        self.restrict(path).map_err(|io_error| OpenWriteError::IoError {
            io_error: Arc::new(io_error),
            filepath: path.to_path_buf(),
        })?;
        Ok(writer)
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.inner.atomic_write(path, data)?;
        self.restrict(path)
    }

    fn sync_directory(&self) -> io::Result<()> {
        self.inner.sync_directory()
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        let held = self.inner.acquire_lock(lock)?;
        // A lock file that already existed may belong to an earlier layout's looser modes.
        let _ = self.restrict(&lock.filepath);
        Ok(held)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

/// Marks a generation folder as citedex's and gives it the file its readers lock.
fn mark_generation(path: &Path) -> Result<(), IndexError> {
    write_private(&path.join(GENERATION_MARKER), MARKER_TEXT.as_bytes())?;
    open_private(&path.join(READERS_FILE)).map(drop)
}

/// Opens (creating if needed) a file private to the user, for reading and writing.
fn open_private(path: &Path) -> Result<File, IndexError> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(path).map_err(io_error(path))?;
    set_mode(path, 0o600).map_err(io_error(path))?;
    Ok(file)
}

/// Writes a small file private to the user and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IndexError> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_error(path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error(path))?;
    set_mode(path, 0o600).map_err(io_error(path))
}

/// Creates a folder (and its parents) private to the user.
fn create_private_dir(path: &Path) -> Result<(), IndexError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path).map_err(io_error(path))?;
    make_private_dir(path)
}

/// Makes an existing folder private to the user, whatever the umask made it.
fn make_private_dir(path: &Path) -> Result<(), IndexError> {
    set_mode(path, 0o700).map_err(io_error(path))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}
