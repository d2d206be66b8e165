//! Whole-file writes that a crash cannot tear: a temporary file in the same directory,
//! flushed and fsync'd, then renamed over the target. Readers see the old file or the new
//! one, never half of either.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// The directory `path` goes in (`.` for a bare file name), created if missing. When a part
/// of it is a file, says which, instead of the OS's "File exists".
pub fn parent_dir(path: &Path) -> std::io::Result<PathBuf> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Some(file) = dir.ancestors().find(|a| a.is_file()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotADirectory,
            format!("{} is a file, not a directory", file.display()),
        ));
    }
    std::fs::create_dir_all(dir)?;
    Ok(dir.to_owned())
}

/// Writes `value` as JSON (pretty when asked) with a trailing newline.
pub fn write_json(path: &Path, value: &impl Serialize, pretty: bool) -> std::io::Result<()> {
    let dir = parent_dir(path)?;
    let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
    {
        let mut out = std::io::BufWriter::new(tmp.as_file_mut());
        if pretty {
            serde_json::to_writer_pretty(&mut out, value)?;
        } else {
            serde_json::to_writer(&mut out, value)?;
        }
        out.write_all(b"\n")?;
        out.flush()?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Proves `path` can be written before a run spends any time on Sigma: its directory exists
/// or can be created, it is not a directory, and the filesystem takes (and syncs) a byte.
/// Leaves nothing behind except directories it had to create; an existing file is untouched.
pub fn probe_writable(path: &Path) -> std::io::Result<()> {
    if path.is_dir() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory; name a file in it instead",
        ));
    }
    let dir = parent_dir(path)?;
    let mut probe = tempfile::Builder::new()
        .prefix(".sigma-connector-probe-")
        .tempfile_in(&dir)?;
    probe.write_all(b"\n")?;
    probe.flush()?;
    probe.as_file().sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_where_a_directory_belongs_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.jsonl");
        std::fs::write(&file, "previous\n").unwrap();
        let err = probe_writable(&file.join("x.jsonl")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotADirectory);
        assert_eq!(
            err.to_string(),
            format!("{} is a file, not a directory", file.display())
        );
        let err = write_json(&file.join("a/b.json"), &1, false).unwrap_err();
        assert!(
            err.to_string().contains("is a file, not a directory"),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "previous\n");
    }

    #[test]
    fn replaces_whole_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.json");
        write_json(&path, &serde_json::json!({"x": 1}), false).unwrap();
        write_json(&path, &serde_json::json!({"x": 2}), true).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "{\n  \"x\": 2\n}\n"
        );
        assert_eq!(std::fs::read_dir(dir.path().join("a")).unwrap().count(), 1);
    }

    #[test]
    fn probe_refuses_a_directory_and_an_uncreatable_place_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let e = probe_writable(dir.path()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::IsADirectory);
        probe_writable(&dir.path().join("new/out.json")).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("new")).unwrap().count(),
            0
        );
        let blocker = dir.path().join("a-file");
        std::fs::write(&blocker, "").unwrap();
        assert!(probe_writable(&blocker.join("out.json")).is_err());
    }
}
