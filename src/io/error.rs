//! The one error type of saving and loading.

use std::fmt;
use std::path::Path;

/// Why a model, checkpoint or tensor file could not be written or read. Every variant prints as
/// one line naming the file (when there is one) and the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelFileError {
    /// The operating system refused to read or write the file.
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// The bytes are not a well-formed safetensors file: too short, truncated, a header that is not
    /// JSON, offsets out of range or overlapping, a byte length that does not match dtype and shape,
    /// duplicate names, ...
    Format {
        /// The file, or `"<bytes>"` when parsing memory.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The file is well formed but does not describe a model tapegrad can build: missing or invalid
    /// architecture metadata, a missing or extra tensor, a tensor of the wrong shape or dtype.
    Model {
        /// The file, or `"<bytes>"`.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The checkpoint does not fit the model it is loaded into (another architecture or optimizer).
    Mismatch {
        /// The file.
        path: String,
        /// What differs.
        problem: String,
    },
    /// What was asked to be saved cannot be (a reserved metadata key, a tensor name used twice, ...).
    Save {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

impl ModelFileError {
    pub(crate) fn io(path: &Path, e: &std::io::Error) -> Self {
        ModelFileError::Io { path: path.display().to_string(), message: e.to_string() }
    }

    /// The file the error is about.
    pub fn path(&self) -> &str {
        match self {
            ModelFileError::Io { path, .. }
            | ModelFileError::Format { path, .. }
            | ModelFileError::Model { path, .. }
            | ModelFileError::Mismatch { path, .. }
            | ModelFileError::Save { path, .. } => path,
        }
    }

    /// The same error about another file name (parsers work on bytes and learn the path later).
    pub(crate) fn at(mut self, file: &Path) -> Self {
        let new = file.display().to_string();
        match &mut self {
            ModelFileError::Io { path, .. }
            | ModelFileError::Format { path, .. }
            | ModelFileError::Model { path, .. }
            | ModelFileError::Mismatch { path, .. }
            | ModelFileError::Save { path, .. } => *path = new,
        }
        self
    }
}

impl fmt::Display for ModelFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelFileError::Io { path, message } => write!(f, "{path}: {message}"),
            ModelFileError::Format { path, problem } => write!(f, "{path}: not a valid safetensors file: {problem}"),
            ModelFileError::Model { path, problem } => write!(f, "{path}: not a valid tapegrad model: {problem}"),
            ModelFileError::Mismatch { path, problem } => {
                write!(f, "{path}: checkpoint does not fit this model: {problem}")
            }
            ModelFileError::Save { path, problem } => write!(f, "{path}: cannot save: {problem}"),
        }
    }
}

impl std::error::Error for ModelFileError {}

/// Shorthand constructors used by the parsers, all with the placeholder path `"<bytes>"`.
pub(crate) const BYTES: &str = "<bytes>";

pub(crate) fn format_err(problem: impl Into<String>) -> ModelFileError {
    ModelFileError::Format { path: BYTES.into(), problem: problem.into() }
}

pub(crate) fn model_err(problem: impl Into<String>) -> ModelFileError {
    ModelFileError::Model { path: BYTES.into(), problem: problem.into() }
}
