//! What a component imports and exports, read from its type: shown by
//! `tokenscope policy inspect` and used to refuse modules that import anything.

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

/// A component's imports and exports by name.
#[derive(Clone, Debug, Serialize)]
pub struct Interface {
    /// Every import's name (a policy must have none).
    pub imports: Vec<String>,
    /// Every top-level export.
    pub exports: Vec<Export>,
}

/// One top-level export, with the names inside it when it is an instance.
#[derive(Clone, Debug, Serialize)]
pub struct Export {
    /// The export's name, e.g. `tokenscope:policy/evaluator@0.3.0`.
    pub name: String,
    /// The functions and types inside it, when it is an instance.
    pub items: Vec<String>,
}

impl Interface {
    /// Compiles `bytes` only to read their interface.
    pub fn of_bytes(engine: &Engine, bytes: &[u8]) -> anyhow::Result<Interface> {
        let component = Component::new(engine, bytes).map_err(anyhow::Error::from)?;
        Ok(interface_of(engine, &component))
    }
}

pub fn interface_of(engine: &Engine, component: &Component) -> Interface {
    let ty = component.component_type();
    let imports = ty.imports(engine).map(|(name, _)| name.to_owned()).collect();
    let exports = ty
        .exports(engine)
        .map(|(name, item)| Export {
            name: name.to_owned(),
            items: match item.ty {
                ComponentItem::ComponentInstance(instance) => {
                    instance.exports(engine).map(|(n, _)| n.to_owned()).collect()
                }
                _ => Vec::new(),
            },
        })
        .collect();
    Interface { imports, exports }
}
