//! The model's generator as a seed a checkpoint can keep.
//!
//! `StdRng` does not expose its state, so the model keeps it at points described by a seed: a
//! `seed_from_u64` (compile, `set_seed`, `FitConfig::seed`) or, at the end of every `fit` epoch, a
//! fresh 32-byte seed drawn from the generator itself. A checkpoint saved between epochs stores
//! that seed, and a resumed `fit` continues with exactly the generator an unbroken one would have.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The state of a model's generator as the seed that makes it (see
/// [`Model::rng_state`](super::Model::rng_state)).
///
/// ```
/// use tapegrad::train::RngState;
/// let s = RngState::FromSeed([7; 32]);
/// assert_eq!(RngState::parse(&s.to_string()).unwrap(), s);
/// assert_eq!(RngState::SeedFromU64(42).to_string(), "u64:42");
/// assert!(RngState::parse("u64:x").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RngState {
    /// `StdRng::seed_from_u64(seed)`, nothing drawn since.
    SeedFromU64(u64),
    /// `StdRng::from_seed(seed)`, nothing drawn since.
    FromSeed([u8; 32]),
}

impl RngState {
    /// The generator in this state.
    pub fn rng(&self) -> StdRng {
        match *self {
            RngState::SeedFromU64(s) => StdRng::seed_from_u64(s),
            RngState::FromSeed(s) => StdRng::from_seed(s),
        }
    }

    /// Reads what [`Display`](std::fmt::Display) writes: `u64:<seed>` or `seed:<64 hex digits>`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("generator state {text:?} is not 'u64:<integer>' or 'seed:<64 hex digits>'");
        if let Some(n) = text.strip_prefix("u64:") {
            return n.parse().map(RngState::SeedFromU64).map_err(|_| bad());
        }
        let hex = text.strip_prefix("seed:").filter(|h| h.len() == 64 && h.is_ascii()).ok_or_else(bad)?;
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(RngState::FromSeed(seed))
    }
}

impl std::fmt::Display for RngState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RngState::SeedFromU64(s) => write!(f, "u64:{s}"),
            RngState::FromSeed(seed) => {
                f.write_str("seed:")?;
                seed.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

/// The generator and the last seeded point of it (with a copy to tell whether it moved since).
#[derive(Clone, Debug)]
pub(crate) struct Anchor(Option<(RngState, StdRng)>);

impl Anchor {
    /// Sets `rng` to `state` and remembers it.
    pub fn set(&mut self, rng: &mut StdRng, state: RngState) {
        *rng = state.rng();
        self.0 = Some((state, rng.clone()));
    }

    /// Reseeds `rng` from itself (the end of a `fit` epoch), so its state is a seed again.
    pub fn reseed(&mut self, rng: &mut StdRng) {
        let seed: [u8; 32] = rng.gen();
        self.set(rng, RngState::FromSeed(seed));
    }

    /// The seed of `rng`'s state, if nothing was drawn since it was set.
    pub fn state(&self, rng: &StdRng) -> Option<RngState> {
        self.0.as_ref().filter(|(_, at)| at == rng).map(|(s, _)| *s)
    }

    /// A generator seeded with `seed`, anchored.
    pub fn seeded(seed: u64) -> (StdRng, Anchor) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut anchor = Anchor(None);
        anchor.set(&mut rng, RngState::SeedFromU64(seed));
        (rng, anchor)
    }
}
