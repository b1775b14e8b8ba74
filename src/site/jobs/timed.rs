//! [`run`](super::run) with a clock around each part of each job, for `build --timings`.
//!
//! A separate loop so the untimed build reads no clock at all.

use super::{job_context, output_file, render_error, sitemap_for, RenderJob};
use crate::diagnostics::Diagnostic;
use crate::site::context::SiteData;
use crate::site::output::Output;
use crate::site::templates::TemplateSources;
use crate::site::timings::{RenderWork, Timings};
use rayon::prelude::*;
use std::time::Instant;
use tera::Tera;

/// Runs every job in parallel like [`super::run`], adding each job's context, template,
/// post-processing and write times to `timings`.
pub fn run_timed(
    jobs: &[RenderJob],
    data: &SiteData<'_>,
    tera: &Tera,
    sources: &TemplateSources,
    out: &Output,
    post_process: &(dyn Fn(&str, String) -> String + Sync),
    timings: &Timings,
) -> Vec<Diagnostic> {
    let sitemap = sitemap_for(jobs, data);
    let (errors, work) = jobs
        .par_iter()
        .fold(
            || (Vec::new(), RenderWork::default()),
            |(mut errors, mut work), job| {
                let t0 = Instant::now();
                let (file, template, path, ctx) = job_context(job, data, &sitemap);
                let t1 = Instant::now();
                let rendered = tera.render(&template, &ctx);
                let t2 = Instant::now();
                let html = match rendered {
                    Ok(html) => html,
                    Err(e) => {
                        errors.push(render_error(file, &template, sources.origin(&template), &e));
                        return (errors, work);
                    }
                };
                let html = post_process(&path, html);
                let t3 = Instant::now();
                let rel = output_file(&path);
                if let Err(e) = out.write(&rel, html.as_bytes()) {
                    errors.push(Diagnostic::file(&rel, format!("cannot write output: {e}")));
                }
                let t4 = Instant::now();
                work.record(&template, &path, [t1 - t0, t2 - t1, t3 - t2, t4 - t3]);
                (errors, work)
            },
        )
        .reduce(
            || (Vec::new(), RenderWork::default()),
            |(mut ea, wa), (eb, wb)| {
                ea.extend(eb);
                (ea, wa.merge(wb))
            },
        );
    timings.add_render_work(work);
    errors
}
