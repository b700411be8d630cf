//! The capacity plan's plots (PNG, plotters): cores needed by month, the small jobs' p99 wait
//! by cores, and one worker's wait as the busiest hour grows.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use scheduler::Queueing;
use scheduler::capacity::{self, Inputs, Month};

const SIZE: (u32, u32) = (960, 540);
/// Where Debian's and most distributions' packages put the two usual sans fonts.
const FONTS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

type Result<T> = anyhow::Result<T>;
/// A named line: its label, its queueing, its (cores, seconds) points.
type Curve = (String, Queueing, Vec<(u32, f64)>);

fn plot_error<E: std::fmt::Debug>(what: &Path) -> impl FnOnce(E) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("cannot draw {}: {e:?}", what.display())
}

/// Registers the plots' font: `font`, or the first system font found.
fn load_font(font: Option<&Path>) -> Result<()> {
    let path = match font {
        Some(p) => p.to_owned(),
        None => FONTS
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "no font for the plots: install fonts-dejavu-core or pass --font FILE.ttf"
                )
            })?,
    };
    let bytes = std::fs::read(&path)
        .map_err(|e| anyhow::anyhow!("cannot read the font {}: {e}", path.display()))?;
    // plotters keeps fonts for the life of the process; this runs once per command.
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow::anyhow!("{} is not a TrueType or OpenType font", path.display()))
}

/// The series' legend, the same on every plot.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    path: &Path,
) -> Result<()> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(plot_error(path))
}

/// Draws the three plots into `dir`; returns their paths.
pub fn draw(
    dir: &Path,
    font: Option<&Path>,
    inputs: &Inputs,
    months: &[Month],
) -> Result<Vec<PathBuf>> {
    load_font(font)?;
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
    let paths = [
        dir.join("cores-by-month.png"),
        dir.join("small-wait-by-cores.png"),
        dir.join("one-worker.png"),
    ];
    cores_by_month(&paths[0], inputs, months)?;
    wait_by_cores(&paths[1], inputs, months)?;
    one_worker(&paths[2], inputs)?;
    Ok(paths.to_vec())
}

fn cores_by_month(path: &Path, inputs: &Inputs, months: &[Month]) -> Result<()> {
    let err = plot_error(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let last = months.last().map_or(1, |m| m.month.max(1));
    let top = months
        .iter()
        .flat_map(|m| [m.lanes, m.fifo])
        .map(|c| c.map_or(inputs.max_cores, |c| c.0))
        .max()
        .unwrap_or(1)
        + 1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Worker cores needed (small p99 wait < {} s, large ETA p90 ≤ {:.0} %)",
                inputs.targets.small_wait_p99_seconds,
                inputs.targets.large_eta_error_p90 * 100.0
            ),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(56)
        .right_y_label_area_size(72)
        .build_cartesian_2d(0u32..last, 0u32..top)
        .map_err(plot_error(path))?
        .set_secondary_coord(
            0u32..last,
            0f64..months.iter().map(|m| m.orders).fold(1.0, f64::max) * 1.1,
        );
    chart
        .configure_mesh()
        .x_desc("month")
        .y_desc("cores")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_error(path))?;
    chart
        .configure_secondary_axes()
        .y_desc("orders a month")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_error(path))?;
    let series = |pick: fn(&Month) -> Option<(u32, scheduler::simulation::Summary)>| {
        months
            .iter()
            .map(move |m| (m.month, pick(m).map_or(inputs.max_cores, |c| c.0)))
            .collect::<Vec<_>>()
    };
    chart
        .draw_series(LineSeries::new(series(|m| m.fifo), RED.stroke_width(3)))
        .map_err(plot_error(path))?
        .label("one FIFO queue")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(3)));
    chart
        .draw_series(LineSeries::new(series(|m| m.lanes), BLUE.stroke_width(3)))
        .map_err(plot_error(path))?
        .label("size lanes")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(3)));
    chart
        .draw_secondary_series(LineSeries::new(
            months.iter().map(|m| (m.month, m.orders)),
            BLACK.mix(0.4).stroke_width(2),
        ))
        .map_err(plot_error(path))?
        .label("orders a month (right)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.4)));
    legend(&mut chart, SeriesLabelPosition::UpperLeft, path)?;
    root.present().map_err(err)
}

/// Small p99 wait against cores at the last month's busiest hour, for bursts of one (none),
/// the plan's, twice and five times it: at these volumes the bursts size the cluster.
fn wait_by_cores(path: &Path, inputs: &Inputs, months: &[Month]) -> Result<()> {
    let err = plot_error(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let max_cores = inputs.max_cores.clamp(2, 16);
    let last = months.last().map_or(0, |m| m.month);
    let rate = inputs.volume.peak_jobs_per_second(last);
    let burst = inputs.workload.burst_size.max(1);
    let mut bursts = vec![1, burst, 2 * burst, 5 * burst];
    bursts.dedup();
    let curves: Vec<Curve> = bursts
        .iter()
        .flat_map(|&b| Queueing::ALL.map(|q| (b, q)))
        .map(|(b, q)| {
            let with_burst = Inputs {
                workload: capacity::Workload {
                    burst_size: b,
                    ..inputs.workload.clone()
                },
                ..inputs.clone()
            };
            let points = (1..=max_cores)
                .map(|c| {
                    let s = capacity::at_rate(&with_burst, rate, c, q);
                    (c, s.small_wait_p99.max(1e-3))
                })
                .collect();
            let name = if b == 1 {
                "no bursts".to_owned()
            } else {
                format!("bursts of {b}")
            };
            (name, q, points)
        })
        .collect();
    let top = curves
        .iter()
        .flat_map(|c| c.2.iter().map(|p| p.1))
        .fold(2.0, f64::max)
        * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "Small jobs' p99 queue wait by cores (month {last}, busiest hour {rate:.3} jobs/s)"
            ),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(1u32..max_cores, (1e-3f64..top).log_scale())
        .map_err(plot_error(path))?;
    chart
        .configure_mesh()
        .x_desc("cores (one slot each)")
        .y_desc("small p99 wait, s")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_error(path))?;
    let target = inputs.targets.small_wait_p99_seconds;
    chart
        .draw_series(LineSeries::new(
            [(1, target), (max_cores, target)],
            BLACK.mix(0.5).stroke_width(1),
        ))
        .map_err(plot_error(path))?
        .label(format!("target {target} s"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5)));
    let colours = [GREEN, BLUE, MAGENTA, RED];
    for (i, (name, q, points)) in curves.into_iter().enumerate() {
        let colour = colours[(i / 2) % colours.len()];
        let style = match q {
            Queueing::Lanes => colour.stroke_width(3),
            Queueing::Fifo => colour.mix(0.5).stroke_width(2),
        };
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(plot_error(path))?
            .label(format!("{name}, {}", q.as_str()))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, path)?;
    root.present().map_err(err)
}

/// One worker (size lanes): the small p99 wait and the large jobs' ETA error as the busiest
/// hour grows from today's to the worker's saturation.
fn one_worker(path: &Path, inputs: &Inputs) -> Result<()> {
    let err = plot_error(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(plot_error(path))?;
    let today = inputs.volume.peak_jobs_per_second(0).max(1e-6);
    let saturation = f64::from(inputs.worker_cores) / capacity::mean_job_seconds(inputs);
    let steps = 40;
    let points: Vec<(f64, f64)> = (0..=steps)
        .map(|i| {
            let rate = today * (saturation / today).powf(f64::from(i) / f64::from(steps));
            let s = capacity::at_rate(inputs, rate, inputs.worker_cores, Queueing::Lanes);
            (rate, s.small_wait_p99.max(1e-3))
        })
        .collect();
    let top = points.iter().map(|p| p.1).fold(2.0, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!(
                "One worker of {} cores: small p99 wait as the busiest hour grows",
                inputs.worker_cores
            ),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d((today..saturation).log_scale(), (1e-3f64..top).log_scale())
        .map_err(plot_error(path))?;
    chart
        .configure_mesh()
        .x_desc("jobs per second in the busiest hour")
        .y_desc("small p99 wait, s")
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(plot_error(path))?;
    let target = inputs.targets.small_wait_p99_seconds;
    chart
        .draw_series(LineSeries::new(
            [(today, target), (saturation, target)],
            BLACK.mix(0.5),
        ))
        .map_err(plot_error(path))?
        .label(format!("target {target} s"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.mix(0.5)));
    chart
        .draw_series(LineSeries::new(points, BLUE.stroke_width(3)))
        .map_err(plot_error(path))?
        .label("small p99 wait")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(3)));
    if let Some(h) = capacity::headroom(inputs) {
        chart
            .draw_series(LineSeries::new(
                [
                    (h.peak_jobs_per_second, 1e-3),
                    (h.peak_jobs_per_second, top),
                ],
                RED.stroke_width(2),
            ))
            .map_err(plot_error(path))?
            .label(format!(
                "headroom ×{:.0}{}",
                h.factor,
                h.month.map_or(String::new(), |m| format!(", month {m}"))
            ))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft, path)?;
    root.present().map_err(err)
}
