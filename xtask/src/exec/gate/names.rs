//! What the whole stage defines or imports, read before the gates look at any file: a written
//! name means something else when the stage defines or renames it.

use syn::visit::{self, Visit};

/// Names the whole stage defines or imports, which change what a written name means.
#[derive(Debug, Default)]
pub struct Names {
    /// Every name a `macro_rules!` defines or a `use … as` introduces: a macro invoked by one
    /// of these names is not the std macro of that name.
    pub local_macros: Vec<String>,
    /// Every function the stage defines (`f as usize` on one of them is an address).
    pub functions: Vec<String>,
}

impl Names {
    /// Adds the macros and functions `file` defines or imports.
    pub fn collect(&mut self, file: &syn::File) {
        self.visit_file(file);
    }
}

impl<'ast> Visit<'ast> for Names {
    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        if let Some(ident) = &item.ident {
            self.local_macros.push(name(ident));
        }
        visit::visit_item_macro(self, item);
    }

    fn visit_use_rename(&mut self, rename: &'ast syn::UseRename) {
        self.local_macros.push(name(&rename.rename));
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        self.functions.push(name(&sig.ident));
        visit::visit_signature(self, sig);
    }
}

fn name(ident: &proc_macro2::Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}
