//! Responsive images: intrinsic size (no layout shift), resized copies at a few widths (never
//! upscaled) plus WebP, served through `<picture>` with `srcset`/`sizes`.
//!
//! Variants are cached under `.splitmark/cache/images/` by a hash of the source bytes and the
//! target, so an unchanged image is never encoded twice; the build copies them into
//! `/_img/` in the output.

use crate::diagnostics::Diagnostic;
use image::{GenericImageView, ImageFormat};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Widths generated for wide images.
pub const WIDTHS: [u32; 3] = [480, 960, 1600];
/// `sizes` for the default theme's reading column (42rem).
pub const SIZES: &str = "(max-width: 42rem) 100vw, 42rem";

/// Collects the variant files a build needs and renders `<picture>` elements.
pub struct Images {
    root: PathBuf,
    cache: PathBuf,
    /// Output path (under the site root) -> cached file.
    outputs: Mutex<BTreeMap<String, PathBuf>>,
}

/// One encoded variant.
struct Variant {
    url: String,
    width: u32,
}

impl Images {
    /// Images cached under `<root>/.splitmark/cache/images`.
    pub fn new(root: &Path) -> Images {
        Images {
            root: root.to_path_buf(),
            cache: root.join(".splitmark/cache/images"),
            outputs: Mutex::default(),
        }
    }

    /// Files to copy into the output: (output path, cached file).
    pub fn outputs(&self) -> Vec<(String, PathBuf)> {
        self.outputs
            .lock()
            .expect("image outputs")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn variant(
        &self,
        hash: &str,
        img: &image::DynamicImage,
        width: u32,
        format: ImageFormat,
        ext: &str,
    ) -> Result<Variant, String> {
        let name = format!("{hash}-{width}.{ext}");
        let cached = self.cache.join(&name);
        if !cached.exists() {
            std::fs::create_dir_all(&self.cache).map_err(|e| e.to_string())?;
            let resized = if width < img.width() {
                img.resize(width, u32::MAX, image::imageops::FilterType::Lanczos3)
            } else {
                img.clone()
            };
            // Write to a temporary name and rename, so a crash never leaves a torn cache entry.
            // Two pages may use one image: each encoder gets its own temporary file.
            let tmp = self
                .cache
                .join(format!(".{name}.{:x}.tmp", rand::random::<u64>()));
            let rgb = if format == ImageFormat::Jpeg {
                image::DynamicImage::ImageRgb8(resized.to_rgb8())
            } else {
                resized
            };
            rgb.save_with_format(&tmp, format)
                .map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, &cached).map_err(|e| e.to_string())?;
        }
        let url = format!("/_img/{name}");
        self.outputs
            .lock()
            .expect("image outputs")
            .insert(url.clone(), cached);
        Ok(Variant { url, width })
    }

    /// `<picture>` for a local raster image, or `None` to keep the plain `<img>`.
    pub fn picture(
        &self,
        source: &Path,
        alt: &str,
        title: &str,
        lazy: bool,
    ) -> Result<Option<String>, Diagnostic> {
        let format = match ImageFormat::from_path(source) {
            Ok(
                f @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::Gif | ImageFormat::WebP),
            ) => f,
            _ => return Ok(None),
        };
        let shown = crate::diagnostics::relative(&self.root, source);
        let bytes = std::fs::read(source)
            .map_err(|e| Diagnostic::file(&shown, format!("cannot read image: {e}")))?;
        let hash = hex::encode(&Sha256::digest(&bytes)[..8]);
        let img = image::load_from_memory_with_format(&bytes, format)
            .map_err(|e| Diagnostic::file(&shown, format!("not a readable image: {e}")))?;
        let (w, h) = img.dimensions();
        let fallback_ext = if format == ImageFormat::Jpeg {
            "jpg"
        } else {
            "png"
        };
        let fallback_format = if format == ImageFormat::Jpeg {
            ImageFormat::Jpeg
        } else {
            ImageFormat::Png
        };
        let mut widths: Vec<u32> = WIDTHS.iter().copied().filter(|x| *x < w).collect();
        widths.push(w);
        let err = |e: String| Diagnostic::file(&shown, format!("cannot encode image variant: {e}"));
        let fallback: Vec<Variant> = widths
            .iter()
            .map(|&x| self.variant(&hash, &img, x, fallback_format, fallback_ext))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let webp: Vec<Variant> = widths
            .iter()
            .map(|&x| self.variant(&hash, &img, x, ImageFormat::WebP, "webp"))
            .collect::<Result<_, _>>()
            .map_err(err)?;
        let srcset = |v: &[Variant]| {
            v.iter()
                .map(|v| format!("{} {}w", v.url, v.width))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let default = fallback
            .iter()
            .find(|v| v.width >= 960)
            .unwrap_or(fallback.last().expect("at least the original"));
        let esc = |s: &str| html_escape::encode_double_quoted_attribute(s).into_owned();
        let title_attr = if title.is_empty() {
            String::new()
        } else {
            format!(" title=\"{}\"", esc(title))
        };
        let loading = if lazy { " loading=\"lazy\"" } else { "" };
        Ok(Some(format!(
            "<picture><source type=\"image/webp\" srcset=\"{}\" sizes=\"{SIZES}\"><img src=\"{}\" srcset=\"{}\" sizes=\"{SIZES}\" width=\"{w}\" height=\"{h}\" alt=\"{}\"{title_attr}{loading} decoding=\"async\"></picture>",
            srcset(&webp),
            default.url,
            srcset(&fallback),
            esc(alt),
        )))
    }
}

/// The file a Markdown image `src` names, if it is local: relative to the page's folder, or
/// a site path into `static/` or `content/`.
pub fn resolve_source(root: &Path, page_dir: &Path, src: &str) -> Option<PathBuf> {
    if src.contains("://") || src.starts_with("data:") || src.starts_with("//") {
        return None;
    }
    let src = src.split(['?', '#']).next()?;
    let candidates = if let Some(abs) = src.strip_prefix('/') {
        vec![
            root.join("static").join(abs),
            root.join("content").join(abs),
        ]
    } else {
        vec![page_dir.join(src)]
    };
    candidates.into_iter().find(|p| p.is_file())
}
