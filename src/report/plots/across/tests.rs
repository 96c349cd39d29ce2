//! A sweep's plot read from its SVG: every swept value labelled on the x axis, the first
//! included, and the predicted boundary dashed in the legend as on the plot.

use super::*;

/// The sweep of the README's example: machine 1's rate from 0.5 to 6, the boundary at 2.
fn sweep_svg() -> String {
    let measured = Measured {
        name: "machine 1's final queue".into(),
        points: [0.5, 1.0, 2.0, 3.0, 4.0, 6.0]
            .iter()
            .map(|&x: &f64| (x, (2.0 - x).max(0.0) * 60.0, 3.0))
            .collect(),
    };
    let predicted = Predicted {
        name: "predicted".into(),
        curve: vec![(0.5, 90.0), (2.0, 0.0), (6.0, 0.0)],
        boundary: Some(2.0),
    };
    sweep_error_plot("c", "rate", "messages", &[measured], Some(&predicted)).unwrap()
}

/// Every `<text>` of the SVG, trimmed, with its y.
fn texts(doc: &roxmltree::Document<'_>) -> Vec<(String, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| {
            let y = n.attribute("y")?.parse().ok()?;
            Some((n.text()?.trim().to_owned(), y))
        })
        .collect()
}

#[test]
fn every_swept_value_is_labelled_on_the_x_axis_the_first_included() {
    let svg = sweep_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let texts = texts(&doc);
    let labels: Vec<&str> = texts.iter().map(|t| t.0.as_str()).collect();
    for value in ["0.5", "1", "2", "3", "4", "6"] {
        assert!(labels.contains(&value), "no tick label {value}: {labels:?}");
    }
    // And no round number between them that was not swept.
    assert!(!labels.contains(&"5"), "{labels:?}");
}

#[test]
fn the_legend_draws_the_boundary_dashed_as_the_plot_does() {
    let svg = sweep_svg();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let (_, label_y) = texts(&doc)
        .into_iter()
        .find(|t| t.0.starts_with("predicted boundary"))
        .expect("the boundary in the legend");
    // The swatch: grey horizontal pieces on the label's row (the text's y is its top).
    let mut pieces: Vec<(f64, f64)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#6E6E6E"))
        .filter_map(|n| {
            let p: Vec<(f64, f64)> = n
                .attribute("points")?
                .split_whitespace()
                .filter_map(|p| p.split_once(','))
                .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
                .collect();
            let level = p.len() == 2 && p[0].1 == p[1].1;
            let on_row = (p[0].1 - label_y).abs() < 12.0;
            (level && on_row).then(|| (p[0].0, p[1].0))
        })
        .collect();
    pieces.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert_eq!(pieces.len(), 3, "dashes of the swatch: {pieces:?}");
    // 6 pixels drawn, 4 left out, as the line on the plot (BOUNDARY_DASH).
    for w in pieces.windows(2) {
        assert_eq!(w[0].1 - w[0].0, 6.0, "{pieces:?}");
        assert_eq!(w[1].0 - w[0].1, 4.0, "{pieces:?}");
    }
}
