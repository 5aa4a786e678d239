//! Flags shared by several subcommands, and turning them into library values.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use tropes::document::{Extractor, FieldPath};
use tropes::rules::{Filters, bundled_dir};
use tropes::{Error, Result};

/// Flags every command takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// Filters directory [default: the bundled filters/]
    #[arg(long, value_name = "DIR")]
    pub filters: Option<PathBuf>,
    /// Worker threads [default: one per core]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar and no summary
    #[arg(long, short)]
    pub quiet: bool,
}

impl Common {
    /// Size the rayon pool.
    pub fn init_threads(&self) -> Result<()> {
        if let Some(n) = self.threads {
            if n == 0 {
                return Err(Error::Usage("--threads must be at least 1".into()));
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .map_err(|e| Error::Other(format!("starting {n} threads: {e}")))?;
        }
        Ok(())
    }

    /// Load and validate the filters.
    pub fn load_filters(&self) -> Result<Arc<Filters>> {
        let dir = self.filters.clone().unwrap_or_else(bundled_dir);
        Ok(Arc::new(Filters::load(&dir)?))
    }
}

/// Run `side` on a thread of its own while `main` runs on this one, and return
/// both results; `main`'s error comes first. Start-up uses it to load the
/// tokenizer (about 0.13 s) while the filters load and compile, so neither
/// waits for the other and a bad file of either kind still fails the command
/// before any shard is opened.
pub fn beside<S: Send, M>(
    side: impl FnOnce() -> Result<S> + Send,
    main: impl FnOnce() -> Result<M>,
) -> Result<(S, M)> {
    std::thread::scope(|scope| {
        let side = scope.spawn(side);
        let main = main();
        // The thread returns a Result; a panic in it is passed on as a panic.
        let side = side.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let main = main?;
        Ok((side?, main))
    })
}

/// How to read documents out of the input lines, and which share to take.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Dotted path of the text field in each JSON line
    #[arg(long, default_value = "text", value_name = "PATH")]
    pub text_field: String,
    /// Dotted path of the id field (documents without one get <shard>:<line>)
    #[arg(long, default_value = "id", value_name = "PATH")]
    pub id_field: String,
    /// This worker's index among --world-size workers [default: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, or 0]
    #[arg(long, value_name = "I")]
    pub rank: Option<usize>,
    /// Number of workers sharing the shard list [default: SLURM_ARRAY_TASK_COUNT, or 1]
    #[arg(long, value_name = "N")]
    pub world_size: Option<usize>,
}

impl InputArgs {
    /// The extractor for these fields plus `extra` metadata fields.
    pub fn extractor(&self, extra: &[String]) -> Result<Extractor> {
        let fields = extra
            .iter()
            .map(|f| FieldPath::parse(f))
            .collect::<Result<_>>()?;
        Ok(Extractor::new(
            FieldPath::parse(&self.text_field)?,
            FieldPath::parse(&self.id_field)?,
            fields,
        ))
    }

    /// `(rank, world_size)` from the flags, else from Slurm's array variables.
    pub fn worker(&self) -> Result<(usize, usize)> {
        let env = |name: &str| -> Result<Option<usize>> {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .map(Some)
                    .map_err(|_| Error::Usage(format!("{name}={v:?} is not a number"))),
                Err(_) => Ok(None),
            }
        };
        let rank = match self.rank {
            Some(r) => r,
            None => match env("SLURM_ARRAY_TASK_ID")? {
                Some(id) => id.saturating_sub(env("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0)),
                None => 0,
            },
        };
        let world = match self.world_size {
            Some(w) => w,
            None => env("SLURM_ARRAY_TASK_COUNT")?.unwrap_or(1),
        };
        Ok((rank, world))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(what: &str) -> Result<u8> {
        Err(Error::Usage(what.into()))
    }

    #[test]
    fn beside_returns_both_results_and_the_main_error_first() {
        assert_eq!(beside(|| Ok(1), || Ok("a")).unwrap(), (1, "a"));
        let both = beside(|| fails("side"), || fails("main")).unwrap_err();
        assert!(both.to_string().contains("main"), "{both}");
        let side = beside(|| fails("side"), || Ok(2)).unwrap_err();
        assert!(side.to_string().contains("side"), "{side}");
    }
}
