//! `citedex mcp`: the index served to AI assistants over the Model Context Protocol, JSON-RPC 2.0
//! on standard input and output, with the official Rust SDK (rmcp). The server opens the index
//! once and answers many calls. Before each call it asks whether a commit was made since (by
//! `citedex index` or `watch`) and then reopens the index, so it follows updates without a
//! restart and only ever reads committed generations. Standard output carries protocol messages
//! only; notes go to standard error.

mod tools;

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use citedex::Index;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ListToolsResult, PaginatedRequestParams,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use super::Outcome;
use super::console::Console;
use crate::render::{self, count};

/// Serves `index` until the client closes the connection.
pub fn serve(index: Index) -> anyhow::Result<Outcome> {
    let console = Console::default();
    console.note(format_args!(
        "serving {} ({}, {}) to an MCP client on standard input and output",
        index.dir().display(),
        count(index.info().documents, "document", "documents"),
        count(index.info().passages, "passage", "passages")
    ));
    let server = Server {
        snapshot: Mutex::new(Arc::new(index)),
        console,
    };
    // One client on one connection: calls are answered in turn, on this thread.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the MCP server")?;
    runtime.block_on(async {
        let transport = (tokio::io::stdin(), render::protocol_output());
        let running = server
            .serve(transport)
            .await
            .context("opening the MCP connection")?;
        running.waiting().await.context("serving MCP")?;
        anyhow::Ok(())
    })?;
    Ok(Outcome::Found)
}

/// The MCP server: the index snapshot calls are answered from.
struct Server {
    /// The snapshot answering calls, replaced when a newer commit is seen. Calls in flight keep
    /// the one they took, and with it its generation on disk.
    snapshot: Mutex<Arc<Index>>,
    console: Console,
}

impl Server {
    /// The snapshot to answer a call from: the one held while it is current, else the live index
    /// opened anew. When that fails (say the index was removed) the held one goes on answering.
    fn snapshot(&self) -> Arc<Index> {
        let mut held = self.snapshot.lock().unwrap_or_else(PoisonError::into_inner);
        if !matches!(held.is_current(), Ok(true)) {
            match Index::open(held.dir()) {
                Ok(index) => {
                    self.console.note(format_args!(
                        "{} changed; now serving {}, {}",
                        index.dir().display(),
                        count(index.info().documents, "document", "documents"),
                        count(index.info().passages, "passage", "passages")
                    ));
                    *held = Arc::new(index);
                }
                Err(error) => self.console.warn(format_args!(
                    "{error}; answering from the index as it was when last read"
                )),
            }
        }
        Arc::clone(&held)
    }
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("citedex", env!("CARGO_PKG_VERSION")))
            .with_instructions(tools::INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::list()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let call = tools::Call::parse(&request.name, request.arguments.unwrap_or_default())?;
        Ok(call.answer(&self.snapshot())?.into())
    }
}
