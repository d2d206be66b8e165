//! The `file` sink: JSON Lines written to a temporary file beside the target, flushed,
//! fsync'd and renamed over the target only on commit. A crash, a kill or an abort never
//! leaves a half file where the last good one was. `-` writes to standard output.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::{Sink, SinkError, SinkSummary};
use crate::records::Record;

pub struct JsonlSink {
    target: Target,
    records: u64,
}

enum Target {
    File {
        path: PathBuf,
        tmp: Option<BufWriter<NamedTempFile>>,
    },
    Stdout(BufWriter<std::io::Stdout>),
}

impl JsonlSink {
    /// A sink writing to `path` (`-` for standard output). Nothing is created until the
    /// healthcheck or the first record.
    pub fn new(path: &Path) -> Self {
        let target = if path == Path::new("-") {
            Target::Stdout(BufWriter::new(std::io::stdout()))
        } else {
            Target::File {
                path: path.to_owned(),
                tmp: None,
            }
        };
        Self { target, records: 0 }
    }

    fn io(path: &Path) -> impl Fn(std::io::Error) -> SinkError + '_ {
        move |source| SinkError::Io {
            path: path.to_owned(),
            source,
        }
    }

    /// Opens the temporary file beside the target: proves the directory exists and is
    /// writable before any Sigma request is made.
    fn open(&mut self) -> Result<(), SinkError> {
        if let Target::File { path, tmp } = &mut self.target {
            if tmp.is_none() {
                let dir = crate::atomic::parent_dir(path).map_err(Self::io(path))?;
                let mut builder = tempfile::Builder::new();
                builder.prefix(".sigma-connector-").suffix(".jsonl.tmp");
                // An output file is not a secret (it never holds one): give it the mode a
                // plain file would get, not the temporary file's 0600.
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    builder.permissions(std::fs::Permissions::from_mode(0o644));
                }
                let file = builder.tempfile_in(&dir).map_err(Self::io(path))?;
                *tmp = Some(BufWriter::new(file));
            }
        }
        Ok(())
    }

    /// One line: the record's own `Serialize` (the one place a record becomes JSON).
    fn write_line(&mut self, record: &Record) -> Result<(), SinkError> {
        fn line(w: &mut impl Write, record: &Record) -> std::io::Result<()> {
            serde_json::to_writer(&mut *w, record)?;
            w.write_all(b"\n")
        }
        self.open()?;
        match &mut self.target {
            Target::File { path, tmp } => {
                let w = tmp.as_mut().expect("opened by healthcheck");
                line(w, record).map_err(Self::io(path))?;
            }
            Target::Stdout(w) => line(w, record).map_err(SinkError::Stdout)?,
        }
        self.records += 1;
        Ok(())
    }

    /// Where a set-aside run's output goes: beside the target, which stays as it was.
    pub fn partial_path(path: &Path) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(".partial");
        PathBuf::from(name)
    }

    /// Flushes, fsyncs and renames into place (or beside it, `aside`); returns where the
    /// output is.
    fn finish(mut self, aside: bool) -> Result<String, SinkError> {
        self.open()?;
        match self.target {
            Target::File { path, tmp } => {
                let path = if aside {
                    Self::partial_path(&path)
                } else {
                    path
                };
                let w = tmp.expect("opened by healthcheck");
                let file = w.into_inner().map_err(|e| SinkError::Io {
                    path: path.clone(),
                    source: e.into_error(),
                })?;
                file.as_file().sync_all().map_err(Self::io(&path))?;
                file.persist(&path).map_err(|e| SinkError::Io {
                    path: path.clone(),
                    source: e.error,
                })?;
                Ok(path.display().to_string())
            }
            Target::Stdout(mut w) => {
                w.flush().map_err(SinkError::Stdout)?;
                Ok("-".into())
            }
        }
    }

    /// Drops the temporary file; the previous output is untouched.
    fn discard(self) {
        if let Target::Stdout(mut w) = self.target {
            let _ = w.flush();
        }
        // A `NamedTempFile` removes itself when dropped.
    }

    pub fn records(&self) -> u64 {
        self.records
    }
}

impl Sink for JsonlSink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        if let Target::File { path, .. } = &self.target {
            crate::atomic::probe_writable(path).map_err(Self::io(path))?;
        }
        self.open()
    }

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        self.write_line(record)
    }

    async fn commit(self) -> Result<SinkSummary, SinkError> {
        let output = self.finish(false)?;
        Ok(SinkSummary {
            output: Some(output),
            ..SinkSummary::default()
        })
    }

    async fn set_aside(self) -> Result<SinkSummary, SinkError> {
        let output = self.finish(true)?;
        Ok(SinkSummary {
            output: Some(output),
            ..SinkSummary::default()
        })
    }

    async fn abort(self) {
        self.discard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DeleteRef, Entity, EntityType};

    fn draft(name: &str) -> Record {
        Record::new(Entity::Delete(DeleteRef {
            entity_type: EntityType::Chart,
            fqn: name.to_owned(),
        }))
    }

    #[tokio::test]
    async fn commit_replaces_and_abort_keeps_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "previous\n").unwrap();

        let mut sink = JsonlSink::new(&path);
        sink.write(&draft("a")).await.unwrap();
        sink.abort().await;
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous\n");

        let mut sink = JsonlSink::new(&path);
        sink.write(&draft("a")).await.unwrap();
        sink.write(&draft("b")).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "previous\n",
            "nothing visible before commit"
        );
        sink.commit().await.unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(
            text.lines().next().unwrap(),
            r#"{"kind":"delete","fqn":"a","entity":{"type":"chart","fqn":"a"}}"#
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[tokio::test]
    async fn set_aside_writes_beside_and_keeps_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.jsonl");
        std::fs::write(&path, "previous\n").unwrap();
        let mut sink = JsonlSink::new(&path);
        sink.write(&draft("a")).await.unwrap();
        let summary = sink.set_aside().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous\n");
        let partial = JsonlSink::partial_path(&path);
        assert_eq!(
            summary.output.as_deref(),
            Some(&*partial.display().to_string())
        );
        assert_eq!(std::fs::read_to_string(partial).unwrap().lines().count(), 1);
    }

    #[tokio::test]
    async fn healthcheck_refuses_a_directory_as_the_output() {
        let dir = tempfile::tempdir().unwrap();
        let mut sink = JsonlSink::new(dir.path());
        let e = sink.healthcheck().await.unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
    }

    #[tokio::test]
    async fn healthcheck_fails_for_an_unwritable_place() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let mut sink = JsonlSink::new(&blocker.join("out.jsonl"));
        let e = sink.healthcheck().await.unwrap_err().to_string();
        assert!(e.contains("out.jsonl"), "{e}");
    }
}
