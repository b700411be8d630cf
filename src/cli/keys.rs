//! `pricing keys create|list|revoke`: API keys in the same store `pricing serve` uses.

use std::process::ExitCode;

use api::{KeyRecord, KeyStore, NewKey, Role};

use super::roles::runtime;
use super::settings::StoreSettings;

#[derive(Debug, clap::Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
    #[command(flatten)]
    store: StoreSettings,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Create a key and print it (the only time it is shown; only its hash is stored).
    Create {
        /// website, partner, mes, operator or admin.
        #[arg(long)]
        role: Role,
        /// The tenant whose jobs the key submits and sees (required for partners).
        #[arg(long)]
        tenant: Option<String>,
        /// A note for people.
        #[arg(long)]
        label: Option<String>,
        /// Requests per minute (default: the server's default).
        #[arg(long)]
        rate_per_minute: Option<u32>,
        /// Jobs per UTC day (default: unlimited).
        #[arg(long)]
        daily_quota: Option<u32>,
    },
    /// List keys (without the keys themselves), newest first.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id or by the prefix `list` shows.
    Revoke { key: String },
}

pub fn run(args: KeysArgs) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async move {
        let (_store, db) =
            scheduler::store::open(&args.store.database_url, scheduler::StoreConfig::default())
                .await?;
        let keys = KeyStore::new(db);
        match args.command {
            KeysCommand::Create {
                role,
                tenant,
                label,
                rate_per_minute,
                daily_quota,
            } => {
                let (key, record) = keys
                    .create(NewKey {
                        role: Some(role),
                        tenant,
                        label,
                        rate_per_minute,
                        daily_quota,
                    })
                    .await?;
                eprintln!(
                    "created {} key {} (id {}); store it now, it is not shown again:",
                    record.role, record.key_prefix, record.id
                );
                println!("{key}");
            }
            KeysCommand::List { json } => {
                let all = keys.list().await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&all)?);
                } else {
                    print!("{}", table(&all));
                }
            }
            KeysCommand::Revoke { key } => {
                let record = keys.revoke(&key).await?;
                println!(
                    "revoked {} ({} key, id {})",
                    record.key_prefix, record.role, record.id
                );
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn table(keys: &[KeyRecord]) -> String {
    let mut out = format!(
        "{:<14} {:<9} {:<16} {:<8} {:<8} {:<20} {}\n",
        "PREFIX", "ROLE", "TENANT", "RATE/MIN", "QUOTA/D", "CREATED", "STATE"
    );
    for k in keys {
        let num = |n: Option<u32>| n.map_or("-".to_owned(), |n| n.to_string());
        out.push_str(&format!(
            "{:<14} {:<9} {:<16} {:<8} {:<8} {:<20} {}\n",
            k.key_prefix,
            k.role.as_str(),
            k.tenant.as_deref().unwrap_or("-"),
            num(k.rate_per_minute),
            num(k.daily_quota),
            k.created_at.format("%Y-%m-%d %H:%M:%S"),
            if k.revoked_at.is_some() {
                "revoked"
            } else {
                "active"
            },
        ));
    }
    out
}
