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
    InvalidState,
    Unauthenticated,
    PermissionDenied,
    ResourceDoesNotExist,
    NotFound,
    ResourceAlreadyExists,
    ResourceConflict,
    RequestLimitExceeded,
    InternalError,
    NotImplemented,
    TemporarilyUnavailable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidParameterValue => "INVALID_PARAMETER_VALUE",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::InvalidState => "INVALID_STATE",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::PermissionDenied => "PERMISSION_DENIED",
            ErrorCode::ResourceDoesNotExist => "RESOURCE_DOES_NOT_EXIST",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::ResourceAlreadyExists => "RESOURCE_ALREADY_EXISTS",
            ErrorCode::ResourceConflict => "RESOURCE_CONFLICT",
            ErrorCode::RequestLimitExceeded => "REQUEST_LIMIT_EXCEEDED",
            ErrorCode::InternalError => "INTERNAL_ERROR",
            ErrorCode::NotImplemented => "NOT_IMPLEMENTED",
            ErrorCode::TemporarilyUnavailable => "TEMPORARILY_UNAVAILABLE",
        }
    }

    /// The HTTP status that carries this code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::InvalidParameterValue | ErrorCode::BadRequest | ErrorCode::InvalidState => {
                400
            }
            ErrorCode::Unauthenticated => 401,
            ErrorCode::PermissionDenied => 403,
            ErrorCode::ResourceDoesNotExist | ErrorCode::NotFound => 404,
            ErrorCode::ResourceAlreadyExists | ErrorCode::ResourceConflict => 409,
            ErrorCode::RequestLimitExceeded => 429,
            ErrorCode::InternalError => 500,
            ErrorCode::NotImplemented => 501,
            ErrorCode::TemporarilyUnavailable => 503,
        }
    }
}
