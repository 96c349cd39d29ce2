//! Where the lines of a trial's plots lie, read from the SVG: a machine whose value stays 0 is
//! drawn above the x axis, not on it.

use super::*;
use crate::analysis::causality::tests::three;
use crate::report::plots::css_colour;

/// The points of every polyline of `svg` stroked in `colour`, and of the x axis (the longest
/// black horizontal polyline), as pixels.
fn lines_and_axis(svg: &str, colour: &str) -> (Vec<Vec<(f64, f64)>>, f64) {
    let doc = roxmltree::Document::parse(svg).expect("the plot is XML");
    let points = |n: &roxmltree::Node<'_, '_>| -> Vec<(f64, f64)> {
        n.attribute("points")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.split_once(','))
            .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
            .collect()
    };
    let polylines: Vec<roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .collect();
    let stroke = |n: &roxmltree::Node<'_, '_>, c: &str| {
        n.attribute("stroke")
            .is_some_and(|s| s.eq_ignore_ascii_case(c))
    };
    let axis = polylines
        .iter()
        .filter(|n| stroke(n, "#000000"))
        .map(points)
        .filter(|p| p.len() == 2 && p[0].1 == p[1].1)
        .max_by(|a, b| (a[1].0 - a[0].0).total_cmp(&(b[1].0 - b[0].0)))
        .expect("an x axis")[0]
        .1;
    let lines = polylines
        .iter()
        .filter(|n| stroke(n, colour))
        .map(points)
        .collect();
    (lines, axis)
}

#[test]
fn a_machine_that_never_jumped_draws_its_line_above_the_axis_of_the_lag_plot() {
    // Machine 1 of the worked example never jumps (clocks 1, 2, 3, 4): its clock minus its ticks
    // is 0 throughout, the least of all, so the plot's floor. Its line (the longest of its
    // colour; the legend's sample is short) must lie clear of the x axis.
    let svg = lag_plot(&three()).unwrap();
    let (lines, axis) = lines_and_axis(&svg, &css_colour(0));
    let line = lines
        .iter()
        .max_by_key(|l| l.len())
        .expect("machine 1's line");
    assert!(line.len() > 2, "{line:?}");
    for &(_, y) in line {
        assert!(y <= axis - 5.0, "machine 1 at y = {y}, the axis at {axis}");
    }
    // No negative value is labelled below 0.
    assert!(!svg.contains(">\n-"), "a negative tick label: {svg}");
}
