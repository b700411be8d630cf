//! Where the pricing rules come from: a path given by the operator, else `$PRICING_RULES`, else the file
//! shipped inside the binary. Reading files is IO, so it lives here and not in pricing-core.

use std::path::{Path, PathBuf};

use pricing_core::pricing::{RULES_PATH_ENV, Rules, RulesError};

#[derive(Debug, thiserror::Error)]
pub enum LoadRulesError {
    #[error("cannot read pricing rules {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Invalid { path: String, source: RulesError },
}

/// Load the rules in force: `path`, else the file named by `$PRICING_RULES`, else the shipped default.
pub fn load_rules(path: Option<&Path>) -> Result<Rules, LoadRulesError> {
    let from_env = std::env::var_os(RULES_PATH_ENV).map(PathBuf::from);
    match path.map(Path::to_path_buf).or(from_env) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|source| LoadRulesError::Io {
                path: path.clone(),
                source,
            })?;
            Rules::from_toml_str(&text).map_err(|source| LoadRulesError::Invalid {
                path: path.display().to_string(),
                source,
            })
        }
        None => Rules::default_shipped().map_err(|source| LoadRulesError::Invalid {
            path: "shipped rules".into(),
            source,
        }),
    }
}
