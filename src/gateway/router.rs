//! Resource matching, as API Gateway does it: a literal segment beats a
//! `{param}`, which beats a greedy `{proxy+}` (one or more trailing
//! segments). When a more specific branch fails deeper down, the next one
//! is tried. A trailing slash is ignored.

use rustc_hash::FxHashMap;

use percent_encoding::percent_decode_str;

#[derive(Debug, Default)]
struct Node {
    /// Fx: looked up once per path segment of every request; its keys come
    /// from the API definition, so requests cannot grow it.
    literal: FxHashMap<String, Node>,
    param: Option<(String, Box<Node>)>,
    greedy: Option<(String, usize)>,
    resource: Option<usize>,
}

/// A compiled resource tree. Resources are identified by their index in the
/// list given to [`Router::new`].
#[derive(Debug, Default)]
pub struct Router {
    root: Node,
}

/// A match: the resource index and its decoded path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    pub resource: usize,
    pub path_parameters: Vec<(String, String)>,
}

impl Router {
    /// Builds the router from resource paths (`/`, `/pets`, `/pets/{id}`,
    /// `/files/{proxy+}`), each at its index.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Router {
        let mut root = Node::default();
        for (index, path) in paths.into_iter().enumerate() {
            let mut node = &mut root;
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let mut placed = false;
            for segment in segments {
                if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
                    node.greedy = Some((name.to_string(), index));
                    placed = true;
                    break;
                } else if let Some(name) =
                    segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
                {
                    let entry = node
                        .param
                        .get_or_insert_with(|| (name.to_string(), Box::default()));
                    node = &mut entry.1;
                } else {
                    node = node.literal.entry(segment.to_string()).or_default();
                }
            }
            if !placed {
                node.resource = Some(index);
            }
        }
        Router { root }
    }

    /// Matches a raw (percent-encoded) request path such as `/pets/7`.
    pub fn find(&self, path: &str) -> Option<RouteMatch> {
        // Inline: request paths seldom have more than 8 segments.
        let segments: smallvec::SmallVec<[&str; 8]> =
            path.split('/').filter(|s| !s.is_empty()).collect();
        let mut params = Vec::new();
        let resource = find_in(&self.root, &segments, &mut params)?;
        Some(RouteMatch {
            resource,
            path_parameters: params,
        })
    }
}

fn decode(segment: &str) -> std::borrow::Cow<'_, str> {
    percent_decode_str(segment).decode_utf8_lossy()
}

fn find_in(node: &Node, segments: &[&str], params: &mut Vec<(String, String)>) -> Option<usize> {
    let Some((first, rest)) = segments.split_first() else {
        return node.resource;
    };
    let literal = node.literal.get(*first).or_else(|| {
        first
            .contains('%')
            .then(|| node.literal.get(&*decode(first)))
            .flatten()
    });
    if let Some(child) = literal
        && let Some(found) = find_in(child, rest, params)
    {
        return Some(found);
    }
    if let Some((name, child)) = &node.param {
        let mark = params.len();
        params.push((name.clone(), decode(first).into_owned()));
        if let Some(found) = find_in(child, rest, params) {
            return Some(found);
        }
        params.truncate(mark);
    }
    if let Some((name, resource)) = &node.greedy {
        let mut value = String::with_capacity(segments.iter().map(|s| s.len() + 1).sum());
        for (index, segment) in segments.iter().enumerate() {
            if index > 0 {
                value.push('/');
            }
            value.push_str(&decode(segment));
        }
        params.push((name.clone(), value));
        return Some(*resource);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new([
            "/",
            "/pets",
            "/pets/{id}",
            "/pets/mine",
            "/pets/{id}/toys",
            "/files/{proxy+}",
            "/{proxy+}",
            "/a/b/c",
        ])
    }

    #[test]
    fn routing_table() {
        let router = router();
        type Case<'a> = (&'a str, Option<(usize, &'a [(&'a str, &'a str)])>);
        let cases: &[Case] = &[
            ("/", Some((0, &[]))),
            ("/pets", Some((1, &[]))),
            ("/pets/", Some((1, &[]))),
            ("/pets/7", Some((2, &[("id", "7")]))),
            ("/pets/mine", Some((3, &[]))),
            ("/pets/a%20b", Some((2, &[("id", "a b")]))),
            ("/pets/7/toys", Some((4, &[("id", "7")]))),
            // A literal branch that fails deeper falls back to the variable one.
            ("/pets/mine/toys", Some((4, &[("id", "mine")]))),
            ("/files/a/b%2Fc/d", Some((5, &[("proxy", "a/b/c/d")]))),
            ("/other/x", Some((6, &[("proxy", "other/x")]))),
            ("/a/b", Some((6, &[("proxy", "a/b")]))),
            ("/a/b/c", Some((7, &[]))),
        ];
        for (path, expected) in cases {
            let found = router.find(path).map(|m| {
                (
                    m.resource,
                    m.path_parameters
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect::<Vec<_>>(),
                )
            });
            let expected = expected.map(|(r, params)| {
                (
                    r,
                    params
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<Vec<_>>(),
                )
            });
            assert_eq!(found, expected, "{path}");
        }
    }

    #[test]
    fn greedy_needs_at_least_one_segment_and_unmatched_is_none() {
        let router = Router::new(["/files/{proxy+}"]);
        assert_eq!(router.find("/files"), None);
        assert_eq!(router.find("/"), None);
        assert_eq!(router.find("/nope"), None);
    }
}
