//! The file sink: JSON Lines, one record per line.
//!
//! Records go to a temporary file beside the target; only `commit` flushes, fsyncs and renames
//! it over the target (atomic on one filesystem), so a failed or interrupted run leaves the
//! previous output byte for byte. Each line is serialised in full before any byte of it is
//! written, so a record that fails to serialise leaves no half line behind.
//! `-` writes to standard output instead (nothing to make atomic there).

use std::fmt;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tempfile::NamedTempFile;

use super::{Sink, SinkError, SinkSummary};
use crate::records::Record;

enum Target {
    File {
        path: PathBuf,
        writer: BufWriter<NamedTempFile>,
    },
    Stdout(BufWriter<io::Stdout>),
}

/// JSON Lines to a file (atomically replaced on commit) or to stdout (`-`).
pub struct JsonlSink {
    target: Target,
    summary: SinkSummary,
    poisoned: bool,
}

impl fmt::Debug for JsonlSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsonlSink")
            .field("destination", &self.summary.destination)
            .field("records", &self.summary.records)
            .finish_non_exhaustive()
    }
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> SinkError + use<> {
    let path = path.to_owned();
    move |source| SinkError::Io {
        action,
        path,
        source,
    }
}

impl JsonlSink {
    /// Opens the temporary file now, so a missing or read-only directory fails before the
    /// run starts rather than at the end.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, SinkError> {
        let path = path.as_ref();
        if path == Path::new("-") {
            return Ok(Self {
                target: Target::Stdout(BufWriter::new(io::stdout())),
                summary: SinkSummary {
                    destination: "stdout".into(),
                    ..SinkSummary::default()
                },
                poisoned: false,
            });
        }
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let file = tempfile::Builder::new()
            .prefix(".sigma-connector-")
            .suffix(".jsonl.tmp")
            .tempfile_in(dir)
            .map_err(io_err("cannot create a temporary file in", dir))?;
        Ok(Self {
            target: Target::File {
                path: path.to_owned(),
                writer: BufWriter::new(file),
            },
            summary: SinkSummary {
                destination: path.display().to_string(),
                ..SinkSummary::default()
            },
            poisoned: false,
        })
    }

    /// Writes any serialisable value as one line. The whole line is built first: a value
    /// that fails to serialise writes nothing and does not spoil the sink.
    pub fn write_line<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SinkError> {
        if self.poisoned {
            return Err(SinkError::Poisoned);
        }
        let mut line = serde_json::to_vec(value)?;
        line.push(b'\n');
        let result = match &mut self.target {
            Target::File { path, writer } => writer
                .write_all(&line)
                .map_err(io_err("cannot write to the temporary file for", path)),
            Target::Stdout(out) => out
                .write_all(&line)
                .map_err(io_err("cannot write to", Path::new("stdout"))),
        };
        // An I/O error may have left part of a line in the file: never commit it.
        if result.is_err() {
            self.poisoned = true;
        }
        result
    }
}

/// Flush, fsync, rename, fsync the directory: the new file is complete before it is visible,
/// and the rename itself survives a crash.
fn finish_file(path: &Path, writer: BufWriter<NamedTempFile>) -> Result<(), SinkError> {
    let file = writer
        .into_inner()
        .map_err(|e| io_err("cannot flush the temporary file for", path)(e.into_error()))?;
    file.as_file()
        .sync_all()
        .map_err(io_err("cannot fsync the temporary file for", path))?;
    keep_permissions(path, &file);
    file.persist(path)
        .map_err(|e| io_err("cannot rename the temporary file onto", path)(e.error))?;
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        // Best effort: some filesystems refuse to fsync a directory.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}

/// A temporary file is created owner-only; the output should look like any other file
/// (or like the one it replaces).
fn keep_permissions(path: &Path, file: &NamedTempFile) {
    let permissions = match std::fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::Permissions::from_mode(0o644)
            }
            #[cfg(not(unix))]
            return;
        }
    };
    let _ = file.as_file().set_permissions(permissions);
}

impl Sink for JsonlSink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        // `create` already proved the directory writable.
        Ok(())
    }

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        self.write_line(record)?;
        self.summary.count(record.kind());
        Ok(())
    }

    async fn commit(self) -> Result<SinkSummary, SinkError> {
        if self.poisoned {
            return Err(SinkError::Poisoned);
        }
        match self.target {
            Target::Stdout(mut out) => out
                .flush()
                .map_err(io_err("cannot write to", Path::new("stdout")))?,
            Target::File { path, writer } => {
                tokio::task::spawn_blocking(move || finish_file(&path, writer))
                    .await
                    .map_err(|e| SinkError::Io {
                        action: "the commit task failed for",
                        path: PathBuf::from(&self.summary.destination),
                        source: io::Error::other(e),
                    })??
            }
        }
        Ok(self.summary)
    }

    async fn abort(self) {
        match self.target {
            // Dropping the temporary file deletes it; the target is never touched.
            Target::File { writer, .. } => drop(writer.into_parts()),
            // Lines already flushed are out; drop what is still buffered.
            Target::Stdout(out) => drop(out.into_parts()),
        }
    }
}
