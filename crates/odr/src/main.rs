//! `odr`: the online dispute resolution engine's one binary. It reads the
//! settings, wires the store, the domain policy and the HTTP edge together,
//! and runs what the subcommand asks. No business rules live here.

mod bootstrap;
mod config;
mod mail;
mod scheduler;
mod serve;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "odr", version, about = "Online dispute resolution engine")]
struct Cli {
    /// A TOML file whose settings override config/default.toml; the
    /// environment (ODR_*) overrides both.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Migrate the database (unless --no-migrate) and serve the HTTP API.
    Serve {
        /// Do not apply migrations; refuse to start if any are pending.
        #[arg(long)]
        no_migrate: bool,
        /// Do not run the mail worker in this process.
        #[arg(long)]
        no_worker: bool,
        /// Do not run the deadline scheduler in this process.
        #[arg(long)]
        no_scheduler: bool,
    },
    /// Run only the mail worker (several may share one PostgreSQL database).
    Worker,
    /// Run only the deadline scheduler.
    Scheduler,
    /// Look at and requeue mail in the outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Create an admin (idempotent: an existing account is left alone).
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// Read from ODR_NEW_ADMIN_PASSWORD when not given, so that it
        /// stays out of the shell history.
        #[arg(long, env = "ODR_NEW_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
    },
    /// Create the demo retailer, staff, mediator, customer and admin with
    /// documented passwords, for local trials only.
    SeedDemo,
}

#[derive(Debug, Subcommand)]
enum OutboxCommand {
    /// List outbox rows, newest first.
    List {
        /// pending, sent or dead.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put a dead mail back in the queue.
    Retry { id: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match config::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("odr: the settings are not usable:\n{e}");
            return ExitCode::from(2);
        }
    };
    serve::init_tracing(&settings.log);
    for name in config::unrecognised_env(std::env::vars()) {
        if !name.starts_with("ODR_TEST_") && name != "ODR_NEW_ADMIN_PASSWORD" {
            tracing::warn!(variable = %name, "this ODR_* variable is not a setting and is ignored (a typo?)");
        }
    }
    let result = match cli.command {
        Command::Serve {
            no_migrate,
            no_worker,
            no_scheduler,
        } => serve::serve(
            &settings,
            serve::Roles {
                migrate: !no_migrate,
                http: true,
                worker: !no_worker,
                scheduler: !no_scheduler,
            },
        ),
        Command::Worker => serve::serve(&settings, serve::Roles::only_worker()),
        Command::Scheduler => serve::serve(&settings, serve::Roles::only_scheduler()),
        Command::Outbox { command } => {
            serve::open_store(&settings).and_then(|store| match command {
                OutboxCommand::List { status, limit } => {
                    serve::list_outbox(&store, status.as_deref(), limit)
                }
                OutboxCommand::Retry { id } => serve::retry_outbox(&store, &id),
            })
        }
        Command::Migrate => {
            serve::open_store(&settings).and_then(|store| serve::migrate(&store).map(|_| ()))
        }
        Command::CreateAdmin {
            email,
            password,
            display_name,
        } => serve::open_store(&settings).and_then(|store| {
            serve::migrate(&store)?;
            bootstrap::create_admin(&store, &email, &password, &display_name).map(|created| {
                if created {
                    println!("Admin {email} created.");
                } else {
                    println!("An account with {email} already exists; nothing changed.");
                }
            })
        }),
        Command::SeedDemo => serve::open_store(&settings).and_then(|store| {
            serve::migrate(&store)?;
            bootstrap::seed_demo(&store, &settings)
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("odr: {e}");
            ExitCode::FAILURE
        }
    }
}
