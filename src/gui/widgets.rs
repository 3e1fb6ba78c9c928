//! Form widgets shared by the tabs.

/// A labelled one-line text field (the label names it for tests and
/// screen readers).
pub fn field(ui: &mut egui::Ui, label: &str, text: &mut String, width: f32) {
    let label = ui.label(label);
    ui.add(egui::TextEdit::singleline(text).desired_width(width))
        .labelled_by(label.id);
}

/// The first `{prefix}001`, `{prefix}002`... not taken (ids of routes,
/// integrations and authorizers made in the HTTP and WebSocket tabs).
pub fn next_id(prefix: &str, taken: impl Iterator<Item = String>) -> String {
    let taken: Vec<String> = taken.collect();
    (1..)
        .map(|n| format!("{prefix}{n:03}"))
        .find(|id| !taken.contains(id))
        .expect("an unused id")
}

/// An editable name/value table with a remove button per row and an add
/// button (the console's query parameters and headers).
pub fn pairs_table(ui: &mut egui::Ui, what: &str, rows: &mut Vec<(String, String)>) {
    ui.label(format!("{what}s"));
    let mut remove = None;
    egui::Grid::new(what).num_columns(3).show(ui, |ui| {
        for (i, (name, value)) in rows.iter_mut().enumerate() {
            ui.add(
                egui::TextEdit::singleline(name)
                    .hint_text("name")
                    .desired_width(110.0),
            );
            ui.add(
                egui::TextEdit::singleline(value)
                    .hint_text("value")
                    .desired_width(150.0),
            );
            if ui
                .small_button("x")
                .on_hover_text(format!("Remove this {}", what.to_lowercase()))
                .clicked()
            {
                remove = Some(i);
            }
            ui.end_row();
        }
    });
    if let Some(i) = remove {
        rows.remove(i);
    }
    if ui.button(format!("Add {}", what.to_lowercase())).clicked() {
        rows.push(Default::default());
    }
}
