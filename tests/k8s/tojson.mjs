// Print each document of a multi-document YAML file as one JSON line, for
// the tests' jq checks.  Usage: node tojson.mjs FILE
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

for (const doc of parseAllDocuments(readFileSync(process.argv[2], "utf8")))
	if (doc.contents !== null)
		console.log(JSON.stringify(doc.toJS()));
