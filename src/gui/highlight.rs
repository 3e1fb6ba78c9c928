//! Syntax highlighting for the template editor: Velocity with Portico's
//! own syntax definition (`assets/vtl.sublime-syntax`) and JSON from
//! syntect's bundled syntaxes, turned into egui text layouts.

use egui::text::{LayoutJob, TextFormat};
use syntect::easy::HighlightLines;
use syntect::highlighting::{Theme, ThemeSet};
use syntect::parsing::{SyntaxDefinition, SyntaxSet, SyntaxSetBuilder};

/// The VTL grammar, compiled into the binary.
const VTL_SYNTAX: &str = include_str!("../../assets/vtl.sublime-syntax");

pub struct Highlighter {
    /// syntect's bundled grammars (JSON, XML...), as shipped: turning them
    /// into a builder to add ours expanded every one of them, tens of MB.
    syntaxes: SyntaxSet,
    /// Our VTL grammar, in a set of its own.
    vtl: SyntaxSet,
    dark: Theme,
    light: Theme,
    /// The last layout, so an unchanged text is not highlighted again on
    /// every frame: (text, extension, dark mode) -> job.
    last: std::cell::RefCell<Option<(LayoutKey, LayoutJob)>>,
}

/// What a layout depends on: the text, the grammar and the theme.
type LayoutKey = (String, String, bool);

impl Default for Highlighter {
    fn default() -> Self {
        Highlighter::new()
    }
}

impl Highlighter {
    pub fn new() -> Highlighter {
        let mut builder = SyntaxSetBuilder::new();
        if let Ok(vtl) = SyntaxDefinition::load_from_str(VTL_SYNTAX, true, Some("vtl")) {
            builder.add(vtl);
        }
        let themes = ThemeSet::load_defaults();
        let theme = |name: &str| themes.themes.get(name).cloned().unwrap_or_default();
        Highlighter {
            syntaxes: SyntaxSet::load_defaults_newlines(),
            vtl: builder.build(),
            dark: theme("base16-ocean.dark"),
            light: theme("InspiredGitHub"),
            last: std::cell::RefCell::new(None),
        }
    }

    /// Whether the VTL grammar loaded (it is compiled in; a test checks it).
    pub fn knows_vtl(&self) -> bool {
        self.vtl.find_syntax_by_extension("vtl").is_some()
    }

    /// [`Highlighter::layout`], reusing the previous result when nothing
    /// changed.
    pub fn layout_cached(
        &self,
        text: &str,
        extension: &str,
        dark_mode: bool,
        font_size: f32,
    ) -> LayoutJob {
        if let Some(((last_text, last_extension, last_dark), job)) = self.last.borrow().as_ref()
            && last_text == text
            && last_extension == extension
            && *last_dark == dark_mode
        {
            return job.clone();
        }
        let job = self.layout(text, extension, dark_mode, font_size);
        *self.last.borrow_mut() = Some((
            (text.to_string(), extension.to_string(), dark_mode),
            job.clone(),
        ));
        job
    }

    /// `text` laid out with colours; `extension` picks the grammar (`vtl`,
    /// `json`), unknown ones give plain monospace text.
    pub fn layout(
        &self,
        text: &str,
        extension: &str,
        dark_mode: bool,
        font_size: f32,
    ) -> LayoutJob {
        let font = egui::FontId::monospace(font_size);
        let mut job = LayoutJob::default();
        let plain = |job: &mut LayoutJob, text: &str| {
            job.append(
                text,
                0.0,
                TextFormat::simple(
                    font.clone(),
                    if dark_mode {
                        egui::Color32::LIGHT_GRAY
                    } else {
                        egui::Color32::DARK_GRAY
                    },
                ),
            );
        };
        let set = if extension == "vtl" {
            &self.vtl
        } else {
            &self.syntaxes
        };
        let Some(syntax) = set.find_syntax_by_extension(extension) else {
            plain(&mut job, text);
            return job;
        };
        let theme = if dark_mode { &self.dark } else { &self.light };
        let mut lines = HighlightLines::new(syntax, theme);
        for line in syntect::util::LinesWithEndings::from(text) {
            match lines.highlight_line(line, set) {
                Ok(ranges) => {
                    for (style, piece) in ranges {
                        let color = egui::Color32::from_rgb(
                            style.foreground.r,
                            style.foreground.g,
                            style.foreground.b,
                        );
                        job.append(piece, 0.0, TextFormat::simple(font.clone(), color));
                    }
                }
                Err(_) => plain(&mut job, line),
            }
        }
        job
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtl_grammar_loads_and_colours_directives() {
        let highlighter = Highlighter::new();
        assert!(highlighter.knows_vtl());
        let job = highlighter.layout("#set($a = \"x\")\n$a ## note\n", "vtl", true, 13.0);
        assert_eq!(job.text, "#set($a = \"x\")\n$a ## note\n");
        let colours: std::collections::HashSet<_> =
            job.sections.iter().map(|s| s.format.color).collect();
        assert!(
            colours.len() >= 3,
            "directive, reference and comment get colours: {colours:?}"
        );
    }
}
