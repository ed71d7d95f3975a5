"""Drives `citedex mcp` with the official MCP Python SDK (PyPI package `mcp`), as an assistant would.

Usage: python client.py CITEDEX INDEX_DIR

INDEX_DIR must hold an index of the bundled corpus. The script starts the server, connects, lists
the tools, searches, reads around a result, lists the sources and the status, sends bad calls and
checks that each is refused with a protocol error naming the problem and that the server goes on
answering. It prints one line per step and exits non-zero on the first failed check.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError

INVALID_PARAMS = -32602


def step(message):
    print(f"ok: {message}", flush=True)


def answer_of(result):
    """The structured answer of a tool call, checked against its text copy."""
    assert not result.is_error, result
    structured = result.structured_content
    assert structured is not None, result
    assert json.loads(result.content[0].text) == structured, result.content[0].text
    return structured


async def refused(session, tool, arguments, needle):
    """Calls a tool that must refuse the call with a protocol error whose message holds `needle`."""
    try:
        result = await session.call_tool(tool, arguments)
    except MCPError as error:
        assert error.code == INVALID_PARAMS, (error.code, error.message)
        assert needle in error.message, error.message
        step(f"{tool} {str(arguments)[:60]} refused: {error.message[:100]}")
        return
    raise AssertionError(f"{tool} {arguments} answered instead of failing: {result}")


async def main(citedex, index_dir):
    server = StdioServerParameters(command=citedex, args=["mcp", "--index", index_dir])
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            initialized = await session.initialize()
            assert initialized.server_info.name == "citedex", initialized.server_info
            assert initialized.capabilities.tools is not None, initialized.capabilities
            step(f"initialized, protocol {initialized.protocol_version}")

            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert sorted(tools) == ["search", "show", "sources", "status"], sorted(tools)
            for tool in tools.values():
                assert tool.description, tool
                assert tool.input_schema["type"] == "object", tool.input_schema
            assert tools["search"].input_schema["required"] == ["query"], tools["search"].input_schema
            step("listed the tools: " + ", ".join(sorted(tools)))

            found = answer_of(await session.call_tool("search", {"query": "lidocaine", "limit": 3}))
            best = found["results"][0]
            assert "lidocaine" in best["text"], best
            assert best["id"].endswith("sources/peripheral-neuropathy-ada.md#5"), best["id"]
            assert best["section"] == ["Treatment", "Managing pain"], best["section"]
            source = best["source"]
            assert source["title"] == "Peripheral Neuropathy", source
            assert source["publisher"] == "American Diabetes Association", source
            assert source["kind"] == "source", source
            citing = [link["title"] for link in best["cited_by"]]
            assert citing == ["What Causes Numbness in the Legs?"], citing
            step(f"search found {best['id']} from {source['title']} ({source['publisher']})")

            articles = answer_of(await session.call_tool("search", {"query": "numbness", "kind": "article"}))
            assert articles["results"], articles
            assert all(hit["source"]["kind"] == "article" for hit in articles["results"]), articles
            mayo = answer_of(
                await session.call_tool("search", {"query": "nerve", "publisher": "Mayo Clinic", "limit": 50})
            )
            assert mayo["results"], mayo
            assert all(hit["source"]["publisher"] == "Mayo Clinic" for hit in mayo["results"]), mayo
            step("search filters by kind and publisher")

            shown = answer_of(await session.call_tool("show", {"id": best["id"], "context": 1}))
            assert shown["passage"]["id"] == best["id"], shown
            assert shown["heading_path"] == ["Peripheral Neuropathy", "Treatment", "Managing pain"], shown
            for neighbour in shown["before"] + shown["after"]:
                assert neighbour["section"] == best["section"], neighbour
            step(f"show read {best['id']} with {len(shown['before'])} before, {len(shown['after'])} after")

            listing = answer_of(await session.call_tool("sources", {}))
            assert listing["total"] == len(listing["documents"]) == 13, listing["total"]
            assert "next_offset" not in listing, listing["next_offset"]
            article = next(d for d in listing["documents"] if d["kind"] == "article")
            assert len(article["cites"]) == 12, article["cites"]
            assert not any("unmatched" in d for d in listing["documents"]), listing
            page = answer_of(await session.call_tool("sources", {"offset": 10, "limit": 2}))
            assert [d["path"] for d in page["documents"]] == [d["path"] for d in listing["documents"][10:12]], page
            assert page["next_offset"] == 12, page
            status = answer_of(await session.call_tool("status", {}))
            assert status["documents"] == 13, status
            step(f"sources lists 13 documents; status counts {status['passages']} passages")

            await refused(session, "frobnicate", {}, 'unknown tool "frobnicate"')
            await refused(session, "search", {"query": "numbness", "limit": 500}, "limit must be between 1 and 50")
            await refused(session, "search", {"query": "numb " * 300}, "the limit is 1000")
            await refused(session, "search", {"query": "numbness", "limit": "ten"}, "bad arguments for search")
            await refused(session, "show", {"id": "nowhere.md#3"}, 'no passage "nowhere.md#3"')

            again = answer_of(await session.call_tool("search", {"query": "lidocaine", "limit": 1}))
            assert again["results"][0]["id"] == best["id"], again
            step("the server still answers after the bad calls")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
