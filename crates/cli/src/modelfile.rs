//! The saved-model file (`synthema synth --save-model`, `synthema sample --model`): versioned
//! JSON holding only post-processed, released quantities — the public dictionary, the public
//! encoding settings, MST's public code merging, and the graphical model's potentials fitted to
//! noisy marginals. Sampling from it costs no privacy budget.

use anyhow::{Context, Result, bail};
use pgm::{Clique, CliqueVector, Factor, GraphicalModel};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use synth::model::FittedModel;
use synth::sample::Compression;
use table::Dictionary;
use table::encode::{Domain, EncodeOptions};

/// This build writes and reads version 1.
pub const FORMAT_VERSION: u32 = 1;
const KIND: &str = "synthema-model";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    kind: String,
    format_version: u32,
    method: String,
    /// The output dictionary, in the dictionary TOML format.
    dictionary: String,
    default_bins: usize,
    max_exact_integer_levels: usize,
    compression: Vec<Option<Vec<Vec<u32>>>>,
    /// Sizes of the (compressed) attributes of the graphical model.
    sizes: Vec<usize>,
    total: f64,
    factors: Vec<FactorFile>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactorFile {
    attrs: Vec<usize>,
    log_values: Vec<f64>,
}

pub fn to_json(model: &FittedModel, method: &str, encode: &EncodeOptions) -> Result<String> {
    let file = ModelFile {
        kind: KIND.into(),
        format_version: FORMAT_VERSION,
        method: method.into(),
        dictionary: model.dictionary.to_toml(),
        default_bins: encode.default_bins,
        max_exact_integer_levels: encode.max_exact_integer_levels,
        compression: model.compression.groups.clone(),
        sizes: model.model.domain().sizes().to_vec(),
        total: model.model.total(),
        factors: model
            .model
            .potentials()
            .factors()
            .map(|f| FactorFile {
                attrs: f.clique().attrs().to_vec(),
                log_values: f.log_values().to_vec(),
            })
            .collect(),
    };
    Ok(serde_json::to_string(&file)?)
}

pub fn from_json(text: &str, source: &str) -> Result<(FittedModel, String)> {
    let file: ModelFile =
        serde_json::from_str(text).with_context(|| format!("{source} is not a synthema model file"))?;
    if file.kind != KIND {
        bail!("{source}: kind {:?} is not {KIND:?}", file.kind);
    }
    if file.format_version != FORMAT_VERSION {
        bail!(
            "{source}: model format version {} is not supported (this build reads {FORMAT_VERSION})",
            file.format_version
        );
    }
    let dictionary = Arc::new(Dictionary::from_toml(
        &file.dictionary,
        &format!("{source} (embedded dictionary)"),
    )?);
    let encode = EncodeOptions {
        default_bins: file.default_bins,
        max_exact_integer_levels: file.max_exact_integer_levels,
    };
    let domain = Domain::from_dictionary(&dictionary, &encode)?;
    if file.compression.len() != domain.len() || file.sizes.len() != domain.len() {
        bail!(
            "{source}: the model has {} attributes, its dictionary {}",
            file.sizes.len(),
            domain.len()
        );
    }
    let pgm_domain = pgm::Domain::new(file.sizes)?;
    let mut potentials = CliqueVector::new();
    for f in file.factors {
        potentials.insert(Factor::new(&pgm_domain, Clique::new(f.attrs), f.log_values)?);
    }
    let model = GraphicalModel::new(pgm_domain, &potentials, file.total)?;
    let fitted = FittedModel {
        dictionary,
        domain,
        compression: Compression {
            groups: file.compression,
        },
        model,
    };
    Ok((fitted, file.method))
}
