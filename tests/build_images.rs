//! Responsive images: intrinsic size, resized variants (never upscaled), WebP, lazy loading
//! after the first image, and a content-hash cache.

mod common;
use common::*;

fn png(path: &std::path::Path, w: u32, h: u32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    img.save(path).unwrap();
}

#[test]
fn local_images_become_responsive_pictures() {
    let site = Site::new(&[("content/blog/trip/index.md", "+++\ntitle = \"Trip\"\n+++\n![A wide photo](wide.png)\n\n![Small one](/small.png \"Tiny\")\n\n![](https://cdn.example.com/x.png)\n")]);
    png(&site.root().join("content/blog/trip/wide.png"), 2000, 1000);
    png(&site.root().join("static/small.png"), 300, 200);
    site.build_ok();
    let doc = site.html("blog/trip/index.html");
    let imgs = attrs(&doc, "picture img", "src");
    assert_eq!(imgs.len(), 2);
    assert_eq!(attrs(&doc, "picture img", "width"), ["2000", "300"]);
    assert_eq!(attrs(&doc, "picture img", "height"), ["1000", "200"]);
    let srcset = &attrs(&doc, "picture img", "srcset")[0];
    for w in ["480w", "960w", "1600w", "2000w"] {
        assert!(srcset.contains(w), "{srcset}");
    }
    let small = &attrs(&doc, "picture img", "srcset")[1];
    assert!(
        small.ends_with("300w") && !small.contains("480w"),
        "never upscaled: {small}"
    );
    assert!(attrs(&doc, "picture source[type='image/webp']", "srcset")[0].contains(".webp 960w"));
    assert_eq!(
        attrs(&doc, "picture img", "loading"),
        ["lazy"],
        "the first image is not lazy"
    );
    assert_eq!(attrs(&doc, "picture img", "title"), ["Tiny"]);
    // Remote images are left as they are.
    assert_eq!(attrs(&doc, "img[src^='https://cdn']", "loading"), ["lazy"]);
    for url in srcset.split(", ").map(|s| s.split(' ').next().unwrap()) {
        assert!(site.out(url.trim_start_matches('/')).is_file(), "{url}");
    }

    // A rebuild reuses the cache: no variant is encoded again.
    let cache = site.root().join(".splitmark/cache/images");
    let stamp = |d: &std::path::Path| -> Vec<(String, std::time::SystemTime)> {
        let mut v: Vec<_> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.metadata().unwrap().modified().unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let before = stamp(&cache);
    assert_eq!(
        before.len(),
        2 * (4 + 1),
        "two formats × (4 widths of the wide image + 1 of the small)"
    );
    site.build_ok();
    assert_eq!(stamp(&cache), before);
}

#[test]
fn a_broken_image_is_an_error_naming_the_file() {
    let site = Site::new(&[
        (
            "content/p/index.md",
            "+++\ntitle = \"P\"\n+++\n![x](bad.png)\n",
        ),
        ("content/p/bad.png", "not a png"),
    ]);
    let e = site.build().unwrap_err();
    assert!(
        e.contains("content/p/bad.png") && e.contains("not a readable image"),
        "{e}"
    );
}
