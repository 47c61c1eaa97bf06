//! `kordon user add|token|revoke|list`.

use anyhow::Result;
use clap::Subcommand;
use kordon_api::users::{Token, TokenIn, UserCreated, UserIn, UserList};

use crate::client::{Client, Remote, block_on};

/// `kordon user ...`.
#[derive(clap::Args)]
pub(crate) struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create or replace a user (the password is read from KORDON_PASSWORD or stdin).
    Add {
        /// Login name.
        name: String,
        /// officer, supervisor, analyst, auditor, administrator or integration.
        #[arg(long, value_parser = ["officer", "supervisor", "analyst", "auditor", "administrator", "integration"])]
        role: String,
        /// Crossing points in scope, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        crossing_points: Vec<String>,
        /// The officer's service number (role officer).
        #[arg(long)]
        officer: Option<String>,
        /// Set up a TOTP second factor (analysts and administrators).
        #[arg(long)]
        totp: bool,
    },
    /// Issue an API token acting as a user (shown once).
    Token {
        /// Login name.
        name: String,
        /// What it is for.
        #[arg(long)]
        label: String,
    },
    /// Revoke an API token (by the id printed when it was issued); it stops working at once.
    Revoke {
        /// Login name.
        name: String,
        /// The token's id (16 hex digits).
        id: String,
    },
    /// List users.
    List,
    /// Disable an account: its sessions end, its tokens are revoked, it cannot sign in.
    Disable {
        /// User name.
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// User name.
        name: String,
    },
}

fn password() -> Result<String> {
    Ok(match std::env::var("KORDON_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut p = String::new();
            std::io::stdin().read_line(&mut p)?;
            p.trim_end_matches(['\r', '\n']).to_owned()
        }
    })
}

pub(crate) fn user(a: UserArgs) -> Result<i32> {
    let c = Client::new(&a.remote)?;
    block_on(async {
        match a.command {
            UserCommand::Add {
                name,
                role,
                crossing_points,
                officer,
                totp,
            } => {
                let body = UserIn {
                    name: name.clone(),
                    role: role.clone(),
                    crossing_points,
                    officer,
                    password: password()?,
                    totp,
                };
                let v: UserCreated = c.post("/v1/users", &body).await?;
                println!("user {name} ({role}) saved (log index {})", v.log_index);
                if let Some(url) = v.totp_url {
                    println!("second factor: add this to an authenticator app: {url}");
                }
            }
            UserCommand::Token { name, label } => {
                let v: Token = c
                    .post(&format!("/v1/users/{name}/tokens"), &TokenIn { label })
                    .await?;
                eprintln!(
                    "token id {} (to revoke it: kordon user revoke {name} {})",
                    v.id, v.id
                );
                println!("{}", v.token.unwrap_or_default());
            }
            UserCommand::Revoke { name, id } => {
                let v: Token = c
                    .post_empty(&format!("/v1/users/{name}/tokens/{id}/revoke"))
                    .await?;
                println!("token {id} of {name} revoked (log index {})", v.log_index);
            }
            UserCommand::Disable { name } => switch(&c, &name, "disable").await?,
            UserCommand::Enable { name } => switch(&c, &name, "enable").await?,
            UserCommand::List => {
                let mut page = kordon_api::devices::Page {
                    after: None,
                    limit: Some(1000),
                };
                loop {
                    let v: UserList = c.get_with("/v1/users", &page).await?;
                    for u in v.users {
                        println!(
                            "{:<20} {:<14} {}",
                            u.name,
                            u.role,
                            if u.crossing_points.is_empty() {
                                "*".to_owned()
                            } else {
                                u.crossing_points.join(",")
                            }
                        );
                    }
                    match v.next {
                        Some(next) => page.after = Some(next),
                        None => break,
                    }
                }
            }
        }
        Ok(0)
    })
}

/// Disables or enables an account (`what`: `disable`, `enable`).
async fn switch(c: &Client, name: &str, what: &str) -> Result<()> {
    let v: Token = c.post_empty(&format!("/v1/users/{name}/{what}")).await?;
    println!("{name}: {what}d (log index {})", v.log_index);
    Ok(())
}
