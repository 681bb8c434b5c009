//! What a component imports and exports, read from its type: shown by
//! `tokenscope policy inspect` and used to refuse modules that import anything.

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

/// A component's imports and exports by name.
#[derive(Clone, Debug, Serialize)]
pub struct Interface {
    pub imports: Vec<String>,
    pub exports: Vec<Export>,
}

/// One top-level export, with the names inside it when it is an instance.
#[derive(Clone, Debug, Serialize)]
pub struct Export {
    pub name: String,
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
