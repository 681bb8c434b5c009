//! The settings component: a tiny component, generated for each build, that
//! exports `tokenscope:gateway/settings` and answers `get` with the gateway's
//! settings as JSON. The proxy world has no configuration import, so the
//! settings travel inside the composed file. Its core module is a memory whose
//! data holds the string and one function that returns where it lies.

use anyhow::{Context, Result};
use wasm_encoder::{
    CodeSection, ConstExpr, DataSection, ExportKind, ExportSection, Function, FunctionSection, Instruction,
    MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wit_component::{ComponentEncoder, StringEncoding, embed_component_metadata};
use wit_parser::Resolve;

/// The policy contract, which the gateway's WIT refers to.
const POLICY_WIT: &str = include_str!("../../../wit/policy.wit");
/// The gateway's WIT: its imports and the settings-provider world.
const GATEWAY_WIT: &str = include_str!("../../../wit/gateway/gateway.wit");

/// Where the (pointer, length) pair of the string lies; the string follows it.
const RETURN_AREA: u32 = 8;
const STRING_AT: u32 = 16;

/// A component exporting `tokenscope:gateway/settings` whose `get` returns `json`.
pub fn settings_component(json: &str) -> Result<Vec<u8>> {
    let mut resolve = Resolve::default();
    resolve.push_str("policy.wit", POLICY_WIT).context("wit/policy.wit does not parse")?;
    let package = resolve.push_str("gateway.wit", GATEWAY_WIT).context("wit/gateway/gateway.wit does not parse")?;
    let world = resolve.select_world(&[package], Some("settings-provider")).context("no settings-provider world")?;
    let mut core = core_module(json.as_bytes())?;
    embed_component_metadata(&mut core, &resolve, world, StringEncoding::UTF8, false)
        .context("failed to embed the settings world")?;
    ComponentEncoder::default()
        .module(&core)
        .context("the settings module does not fit its world")?
        .validate(true)
        .encode()
        .context("failed to encode the settings component")
}

fn core_module(json: &[u8]) -> Result<Vec<u8>> {
    let len = u32::try_from(json.len()).context("the settings are over 4 GiB")?;
    let end = u64::from(STRING_AT) + u64::from(len);
    let pages = end.div_ceil(65_536).max(1);
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    let mut functions = FunctionSection::new();
    functions.function(0);
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: pages,
        maximum: Some(pages),
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("tokenscope:gateway/settings@0.1.0#get", ExportKind::Func, 0);
    let mut code = CodeSection::new();
    let mut get = Function::new([]);
    get.instruction(&Instruction::I32Const(RETURN_AREA.cast_signed()));
    get.instruction(&Instruction::End);
    code.function(&get);
    let mut data = DataSection::new();
    let mut bytes = Vec::with_capacity(json.len() + 8);
    bytes.extend_from_slice(&STRING_AT.to_le_bytes());
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(json);
    data.active(0, &ConstExpr::i32_const(RETURN_AREA.cast_signed()), bytes);
    let mut module = Module::new();
    module.section(&types).section(&functions).section(&memories).section(&exports).section(&code).section(&data);
    Ok(module.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_component_exports_exactly_the_settings_interface() {
        let bytes = settings_component(r#"{"mode":"check"}"#).unwrap();
        let wit_component::DecodedWasm::Component(resolve, world) = wit_component::decode(&bytes).unwrap() else {
            panic!("not a component");
        };
        let world = &resolve.worlds[world];
        assert!(world.imports.is_empty());
        let exports: Vec<String> = world.exports.keys().map(|k| resolve.name_world_key(k)).collect();
        assert_eq!(exports, ["tokenscope:gateway/settings@0.1.0"]);
    }
}
