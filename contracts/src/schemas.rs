//! The JSON Schema of every contract, as committed under `deploy/schemas/`.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;

use crate::{
    Contract, ContractError, OrderReady, PriceCalculated, PriceFailed, PriceRejected, RunJob,
    SubmitJob,
};

/// One committed schema file.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaFile {
    /// File name under `deploy/schemas/`, e.g. `run_job.v1.json`.
    pub file_name: String,
    /// The AMQP `type` property of messages following this schema.
    pub message_type: &'static str,
    /// Pretty-printed JSON with a trailing newline, exactly as committed.
    pub contents: String,
}

/// Every contract's schema (JSON Schema draft-07, what AsyncAPI 3 tooling reads), in a fixed order.
pub fn schema_files() -> Result<Vec<SchemaFile>, ContractError> {
    Ok(vec![
        file::<RunJob>()?,
        file::<PriceCalculated>()?,
        file::<PriceRejected>()?,
        file::<PriceFailed>()?,
        file::<OrderReady>()?,
        file::<SubmitJob>()?,
    ])
}

fn file<T: Contract + JsonSchema>() -> Result<SchemaFile, ContractError> {
    let mut schema = SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("x-message-type".into(), T::TYPE.into());
    let mut contents =
        serde_json::to_string_pretty(&schema).map_err(|source| ContractError::Encode {
            kind: "json schema",
            source,
        })?;
    contents.push('\n');
    Ok(SchemaFile {
        file_name: T::schema_file(),
        message_type: T::TYPE,
        contents,
    })
}
