//! `splitmark build --timings`: where a build's time goes, per stage and per template.
//!
//! Off by default and then free: the build carries an `Option<&Timings>` and, when it is
//! `None`, takes no clock readings (one branch per stage and per render batch). Stages are
//! timed in wall-clock time; the parallel render is also broken down into CPU time summed
//! over the worker threads, and per template, because wall time per template means nothing
//! when two templates render at once.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One template's renders in a build.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateStat {
    /// Number of renders.
    pub renders: usize,
    /// Time in the template engine, summed over threads (includes what the template extends
    /// and includes).
    pub total: Duration,
    /// The slowest single render.
    pub slowest: Duration,
    /// Site path of the slowest render.
    pub slowest_path: String,
}

impl TemplateStat {
    fn add(&mut self, took: Duration, path: &str) {
        self.renders += 1;
        self.total += took;
        if took > self.slowest || self.renders == 1 {
            self.slowest = took;
            self.slowest_path = path.to_owned();
        }
    }

    fn merge(&mut self, other: TemplateStat) {
        if other.renders == 0 {
            return;
        }
        if self.renders == 0 || other.slowest > self.slowest {
            self.slowest = other.slowest;
            self.slowest_path = other.slowest_path;
        }
        self.renders += other.renders;
        self.total += other.total;
    }
}

/// CPU time of the render stage's parts, summed over the worker threads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RenderWork {
    /// Building each job's template context.
    pub context: Duration,
    /// The template engine.
    pub templates: Duration,
    /// Minifying (when `minify = true`).
    pub post_process: Duration,
    /// Writing the files.
    pub write: Duration,
    /// Per template name.
    pub per_template: HashMap<String, TemplateStat>,
}

impl RenderWork {
    /// Records one rendered job.
    pub fn record(&mut self, template: &str, path: &str, parts: [Duration; 4]) {
        let [context, render, post, write] = parts;
        self.context += context;
        self.templates += render;
        self.post_process += post;
        self.write += write;
        match self.per_template.get_mut(template) {
            Some(s) => s.add(render, path),
            None => {
                let mut s = TemplateStat::default();
                s.add(render, path);
                self.per_template.insert(template.to_owned(), s);
            }
        }
    }

    /// Adds another thread's work (the reduce step of a parallel fold).
    pub fn merge(mut self, other: RenderWork) -> RenderWork {
        self.context += other.context;
        self.templates += other.templates;
        self.post_process += other.post_process;
        self.write += other.write;
        for (name, stat) in other.per_template {
            self.per_template.entry(name).or_default().merge(stat);
        }
        self
    }
}

/// What `--timings` collects during one build.
#[derive(Debug)]
pub struct Timings {
    stages: Mutex<Vec<(&'static str, Duration)>>,
    work: Mutex<RenderWork>,
    threads: usize,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            stages: Mutex::default(),
            work: Mutex::default(),
            threads: rayon::current_num_threads(),
        }
    }
}

impl Timings {
    /// Stages in the order they ran, with their wall time.
    pub fn stages(&self) -> Vec<(&'static str, Duration)> {
        self.stages.lock().expect("timings").clone()
    }

    /// The render stage's CPU breakdown and per-template figures.
    pub fn render_work(&self) -> RenderWork {
        self.work.lock().expect("timings").clone()
    }

    /// Templates with their figures, slowest total first (ties by name).
    pub fn templates(&self) -> Vec<(String, TemplateStat)> {
        let mut all: Vec<_> = self.render_work().per_template.into_iter().collect();
        all.sort_by(|a, b| b.1.total.cmp(&a.1.total).then_with(|| a.0.cmp(&b.0)));
        all
    }

    /// Adds the work of a parallel render.
    pub fn add_render_work(&self, work: RenderWork) {
        let mut mine = self.work.lock().expect("timings");
        *mine = std::mem::take(&mut *mine).merge(work);
    }

    fn push_stage(&self, name: &'static str, took: Duration) {
        self.stages.lock().expect("timings").push((name, took));
    }
}

/// Times consecutive stages: each [`Laps::lap`] records the time since the previous one.
/// Without timings it reads no clock.
pub struct Laps<'a> {
    timings: Option<(&'a Timings, Instant)>,
}

impl<'a> Laps<'a> {
    /// Starts the first stage now (if timing).
    pub fn start(timings: Option<&'a Timings>) -> Laps<'a> {
        Laps {
            timings: timings.map(|t| (t, Instant::now())),
        }
    }

    /// Ends the current stage under `name` and starts the next.
    pub fn lap(&mut self, name: &'static str) {
        if let Some((t, since)) = &mut self.timings {
            let now = Instant::now();
            t.push_stage(name, now - *since);
            *since = now;
        }
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

/// Milliseconds with two decimals: single renders of small templates take microseconds.
fn ms2(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

impl fmt::Display for Timings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stages = self.stages();
        let width = stages
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0)
            .max(5);
        writeln!(f, "Stages (wall time):")?;
        let mut total = Duration::ZERO;
        for (name, took) in &stages {
            total += *took;
            writeln!(f, "  {name:<width$}  {:>10} ms", ms(*took))?;
        }
        writeln!(f, "  {:<width$}  {:>10} ms", "total", ms(total))?;

        let work = self.render_work();
        let threads = self.threads;
        writeln!(f)?;
        writeln!(
            f,
            "Render and write, CPU time summed over {threads} threads:"
        )?;
        for (name, took) in [
            ("contexts", work.context),
            ("templates", work.templates),
            ("minify", work.post_process),
            ("write", work.write),
        ] {
            writeln!(f, "  {name:<9}  {:>10} ms", ms(took))?;
        }

        let templates = self.templates();
        writeln!(f)?;
        writeln!(
            f,
            "Templates, by total CPU time summed over {threads} threads (a template's time includes what it extends and includes):"
        )?;
        let name_w = templates
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0)
            .max("template".len());
        writeln!(
            f,
            "  {:<name_w$}  {:>8}  {:>10}  {:>8}  {:>10}  slowest page",
            "template", "renders", "total ms", "mean ms", "slowest ms"
        )?;
        for (name, s) in &templates {
            let mean = s.total / u32::try_from(s.renders.max(1)).unwrap_or(u32::MAX);
            writeln!(
                f,
                "  {name:<name_w$}  {:>8}  {:>10}  {:>8}  {:>10}  {}",
                s.renders,
                ms2(s.total),
                ms2(mean),
                ms2(s.slowest),
                s.slowest_path
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn merged_work_keeps_counts_totals_and_the_slowest_page() {
        let mut a = RenderWork::default();
        a.record("page.html", "/a/", [d(1), d(5), d(0), d(1)]);
        a.record("page.html", "/b/", [d(1), d(7), d(0), d(1)]);
        let mut b = RenderWork::default();
        b.record("page.html", "/c/", [d(1), d(6), d(0), d(1)]);
        b.record("section.html", "/blog/", [d(2), d(3), d(0), d(1)]);
        let m = a.merge(b);
        let page = &m.per_template["page.html"];
        assert_eq!(page.renders, 3);
        assert_eq!(page.total, d(18));
        assert_eq!((page.slowest, page.slowest_path.as_str()), (d(7), "/b/"));
        assert_eq!(m.context, d(5));
        assert_eq!(m.templates, d(21));
        assert_eq!(m.write, d(4));
    }

    #[test]
    fn templates_sort_by_total_then_name_and_print_aligned() {
        let t = Timings::default();
        let mut w = RenderWork::default();
        w.record("b.html", "/b/", [d(0), d(2), d(0), d(0)]);
        w.record("a.html", "/a/", [d(0), d(2), d(0), d(0)]);
        w.record("slow.html", "/s/", [d(0), d(9), d(0), d(0)]);
        t.add_render_work(w);
        let names: Vec<_> = t.templates().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["slow.html", "a.html", "b.html"]);
        let mut laps = Laps::start(Some(&t));
        laps.lap("load");
        laps.lap("markdown");
        let text = t.to_string();
        let stage_names: Vec<_> = t.stages().into_iter().map(|(n, _)| n).collect();
        assert_eq!(stage_names, ["load", "markdown"]);
        let rows: Vec<&str> = text.lines().filter(|l| l.contains(".html")).collect();
        assert_eq!(rows.len(), 3, "{text}");
        // Columns line up: every row has its count at the same offset.
        let at: Vec<_> = rows.iter().map(|r| r.find(" 1 ").unwrap()).collect();
        assert!(at.windows(2).all(|w| w[0] == w[1]), "{text}");
    }

    #[test]
    fn laps_without_timings_record_nothing() {
        let mut laps = Laps::start(None);
        laps.lap("load");
        assert!(laps.timings.is_none());
    }
}
