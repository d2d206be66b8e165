//! The `datahub-file` sink's writer: a JSON array of metadata change proposals, in the file
//! format DataHub's `file` source reads, written to a temporary file beside the target and
//! renamed over it only on commit (as the JSON Lines sink does; `<target>.partial` when a
//! run is set aside). A crash, a kill or an abort never leaves half an array where the last
//! good file was.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::datahub::mcp::Mcp;
use crate::sink::SinkError;

pub struct McpFile {
    path: PathBuf,
    tmp: Option<BufWriter<NamedTempFile>>,
    written: u64,
}

impl McpFile {
    /// Nothing is created until `open` (the healthcheck) or the first proposal.
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            tmp: None,
            written: 0,
        }
    }

    fn io(&self) -> impl Fn(std::io::Error) -> SinkError + '_ {
        move |source| SinkError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Proves the target can be written and opens the temporary file beside it.
    pub fn open(&mut self) -> Result<(), SinkError> {
        if self.tmp.is_some() {
            return Ok(());
        }
        crate::atomic::probe_writable(&self.path).map_err(self.io())?;
        let dir = crate::atomic::parent_dir(&self.path).map_err(self.io())?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(".sigma-connector-").suffix(".json.tmp");
        // Proposals are not secret (they never hold one): a plain file's mode.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o644));
        }
        let mut file = BufWriter::new(builder.tempfile_in(&dir).map_err(self.io())?);
        file.write_all(b"[").map_err(self.io())?;
        self.tmp = Some(file);
        Ok(())
    }

    pub fn write(&mut self, mcp: &Mcp) -> Result<(), SinkError> {
        self.open()?;
        let first = self.written == 0;
        let path = self.path.clone();
        let io = |source| SinkError::Io {
            path: path.clone(),
            source,
        };
        let Some(w) = self.tmp.as_mut() else {
            return Ok(());
        };
        w.write_all(if first { b"\n" } else { b",\n" })
            .map_err(io)?;
        serde_json::to_writer(&mut *w, &mcp.file_form()).map_err(|e| io(e.into()))?;
        self.written += 1;
        Ok(())
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Closes the array, fsyncs and renames into place (beside it, as `<target>.partial`,
    /// when `aside`); returns where the output is.
    pub fn finish(mut self, aside: bool) -> Result<String, SinkError> {
        self.open()?;
        let path = if aside {
            super::super::JsonlSink::partial_path(&self.path)
        } else {
            self.path.clone()
        };
        let io = |source| SinkError::Io {
            path: path.clone(),
            source,
        };
        let Some(mut w) = self.tmp.take() else {
            return Ok(path.display().to_string());
        };
        w.write_all(b"\n]\n").map_err(io)?;
        let file = w.into_inner().map_err(|e| io(e.into_error()))?;
        file.as_file().sync_all().map_err(io)?;
        file.persist(&path).map_err(|e| io(e.error))?;
        Ok(path.display().to_string())
    }

    /// Drops the temporary file (a `NamedTempFile` removes itself); the target is untouched.
    pub fn discard(self) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datahub::mcp::{Aspect, Status};

    fn status(urn: &str) -> Mcp {
        Mcp::new(urn, Aspect::Status(Status { removed: false }))
    }

    #[test]
    fn a_committed_file_is_a_json_array_and_a_discarded_one_leaves_the_previous() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcps.json");
        std::fs::write(&path, "previous").unwrap();
        let mut file = McpFile::new(&path);
        file.write(&status("urn:li:chart:(sigma,a)")).unwrap();
        file.discard();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");

        let mut file = McpFile::new(&path);
        file.write(&status("urn:li:chart:(sigma,a)")).unwrap();
        file.write(&status("urn:li:chart:(sigma,b)")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "previous");
        file.finish(false).unwrap();
        let array: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(array.as_array().unwrap().len(), 2);
        assert_eq!(array[1]["entityUrn"], "urn:li:chart:(sigma,b)");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn an_empty_run_writes_an_empty_array_and_a_set_aside_one_goes_beside() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mcps.json");
        McpFile::new(&path).finish(false).unwrap();
        let array: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(array, serde_json::json!([]));
        let mut file = McpFile::new(&path);
        file.write(&status("urn:li:chart:(sigma,a)")).unwrap();
        let out = file.finish(true).unwrap();
        assert!(out.ends_with("mcps.json.partial"), "{out}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            "[\n]",
            "the target stays"
        );
    }
}
