// Validate Kubernetes manifests (multi-document YAML files) against the
// OpenAPI schemas that the pinned kubernetes-models package carries.
// Usage: node validate.mjs FILE...  Prints one line per invalid object
// and exits 1 if any; an object of a kind the package lacks is an error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const groups = { "v1": "v1" };
let bad = 0, n = 0;

async function model(apiVersion, kind) {
	const path = groups[apiVersion] ?? apiVersion;
	const mod = await import(`kubernetes-models/${path}/${kind}`);
	return mod[kind];
}

for (const file of process.argv.slice(2)) {
	const docs = parseAllDocuments(readFileSync(file, "utf8"));
	for (const [i, doc] of docs.entries()) {
		const where = `${file}: document ${i + 1}`;
		if (doc.errors.length > 0) {
			console.log(`${where}: YAML: ${doc.errors[0].message}`);
			bad++;
			continue;
		}
		const o = doc.toJS();
		if (o === null)
			continue;
		n++;
		let M;
		try {
			M = await model(o.apiVersion, o.kind);
		} catch {
			console.log(`${where}: unknown ${o.apiVersion} ${o.kind}`);
			bad++;
			continue;
		}
		try {
			new M(o).validate();
		} catch (e) {
			console.log(`${where} (${o.kind} ${o.metadata?.name}): ` +
			    e.message);
			bad++;
		}
	}
}
console.log(`${n} objects, ${bad} invalid`);
process.exit(bad > 0 ? 1 : 0);
