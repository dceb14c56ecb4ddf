//! The error body of the REST API (REFERENCE.md §13.1) and the codes this project sends.
//! The client parses every shape a workspace may send (see `databricks-client`'s
//! `error.rs`); servers write this one.

use serde::{Deserialize, Serialize};

/// `{"error_code": "...", "message": "...", "details": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<serde_json::Value>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error_code: code.as_str().to_string(),
            message: message.into(),
            details: Vec::new(),
        }
    }
}

/// Error codes with the HTTP status the API answers them with (§13.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidParameterValue,
    BadRequest,
    /// A body that is not the JSON object the endpoint takes.
    MalformedRequest,
    InvalidState,
    Unauthenticated,
    PermissionDenied,
    ResourceDoesNotExist,
    NotFound,
    ResourceAlreadyExists,
    /// Files API: a file or directory is already at the path (with 409).
    AlreadyExists,
    ResourceConflict,
    RequestLimitExceeded,
    InternalError,
    NotImplemented,
    TemporarilyUnavailable,
    /// No route for the method and path.
    EndpointNotFound,
    CatalogDoesNotExist,
    SchemaDoesNotExist,
    TableDoesNotExist,
    FunctionDoesNotExist,
    /// Workspace API: deleting a non-empty directory without `recursive`.
    DirectoryNotEmpty,
    /// Workspace API: an import or export over 10 MB.
    MaxNotebookSizeExceeded,
    /// DBFS: a `read` of more than 1 MB.
    MaxReadSizeExceeded,
    /// DBFS: a `put` or `add-block` of more than 1 MB.
    MaxBlockSizeExceeded,
    /// DBFS: a write the file system refuses (deleting a non-empty directory without
    /// `recursive`), with 400.
    IoError,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::MalformedRequest => "MALFORMED_REQUEST",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::AlreadyExists => "ALREADY_EXISTS",
            ErrorCode::ResourceConflict => "RESOURCE_CONFLICT",
            ErrorCode::RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
            ErrorCode::EndpointNotFound => "ENDPOINT_NOT_FOUND",
            ErrorCode::CatalogDoesNotExist => "CATALOG_DOES_NOT_EXIST",
            ErrorCode::SchemaDoesNotExist => "SCHEMA_DOES_NOT_EXIST",
            ErrorCode::TableDoesNotExist => "TABLE_DOES_NOT_EXIST",
            ErrorCode::FunctionDoesNotExist => "FUNCTION_DOES_NOT_EXIST",
            ErrorCode::DirectoryNotEmpty => "DIRECTORY_NOT_EMPTY",
            ErrorCode::MaxNotebookSizeExceeded => "MAX_NOTEBOOK_SIZE_EXCEEDED",
            ErrorCode::MaxReadSizeExceeded => "MAX_READ_SIZE_EXCEEDED",
            ErrorCode::MaxBlockSizeExceeded => "MAX_BLOCK_SIZE_EXCEEDED",
            ErrorCode::IoError => "IO_ERROR",
        }
    }

    /// The HTTP status that carries this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidParameterValue
            | ErrorCode::BadRequest
            | ErrorCode::MalformedRequest
            | ErrorCode::InvalidState
            | ErrorCode::DirectoryNotEmpty
            | ErrorCode::MaxNotebookSizeExceeded
            | ErrorCode::MaxReadSizeExceeded
            | ErrorCode::MaxBlockSizeExceeded
            | ErrorCode::IoError => 400,
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::ResourceDoesNotExist
            | ErrorCode::NotFound
            | ErrorCode::EndpointNotFound
            | ErrorCode::CatalogDoesNotExist
            | ErrorCode::SchemaDoesNotExist
            | ErrorCode::TableDoesNotExist
            | ErrorCode::FunctionDoesNotExist => 404,
            ErrorCode::ResourceAlreadyExists
            | ErrorCode::AlreadyExists
            | ErrorCode::ResourceConflict => 409,
            ErrorCode::RequestLimitExceeded => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::NotImplemented => 501,
            ErrorCode::TemporarilyUnavailable => 503,
        }
    }
}

const ERROR_INFO_TYPE: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// A `details[]` entry of type `ErrorInfo` (§13.1).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    #[serde(rename = "@type")]
    pub kind: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
}

/// A failed request as a server answers it: the status and the body that goes with it.
/// Backends return it; the workspace server writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status: code.status(),
            body: ErrorBody::new(code, message),
        }
    }

    /// 400 `INVALID_PARAMETER_VALUE`.
    pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::InvalidParameterValue, message)
    }

    /// A required parameter is absent or empty.
    pub fn missing_parameter(name: &str) -> ApiError {
        ApiError::invalid_parameter(format!("Missing required parameter: {name}."))
    }

    /// The same error with another status, for services that send a code with a status
    /// other than its usual one (the Workspace API's 400 `RESOURCE_ALREADY_EXISTS`).
    pub fn with_status(mut self, status: u16) -> ApiError {
        self.status = status;
        self
    }

    /// The same error with a `google.rpc.ErrorInfo` detail naming its `reason`, which
    /// clients test where one code covers several failures (the Files API's 400 for a
    /// directory that is not empty).
    pub fn with_reason(mut self, reason: &str) -> ApiError {
        let info = ErrorInfo {
            kind: ERROR_INFO_TYPE.to_string(),
            reason: reason.to_string(),
            domain: String::new(),
        };
        if let Ok(detail) = serde_json::to_value(info) {
            self.body.details.push(detail);
        }
        self
    }

    pub fn code(&self) -> &str {
        &self.body.error_code
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status, self.body.error_code, self.body.message
        )
    }
}

impl std::error::Error for ApiError {}
