// Validate Kubernetes manifests (multi-document YAML files) against the
// OpenAPI schemas that the pinned kubernetes-models package carries.
// Usage: node validate.mjs FILE...  Prints one line per invalid object
// and exits 1 if any; an object of a kind the package lacks is an error.
//
// Strict: a member the schema does not know is an error too, as the API
// server's strict field validation (kubectl apply --validate=strict) has
// it.  The package's schemas are compiled validators that leave unknown
// members alone, but they read every member they know by name and walk
// every map they allow; so the object is validated through proxies that
// note what the validator read, and a member of an object that it neither
// read nor walked is unknown to the schema.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const groups = { "v1": "v1" };
let bad = 0, n = 0;

async function model(apiVersion, kind) {
	const path = groups[apiVersion] ?? apiVersion;
	const mod = await import(`kubernetes-models/${path}/${kind}`);
	return mod[kind];
}

// v, seen through a proxy that records in seen, per object, the members
// read and whether its keys were listed.
function watched(v, seen) {
	if (v === null || typeof v !== "object")
		return v;
	if (!seen.has(v))
		seen.set(v, { read: new Set(), walked: false });
	const note = seen.get(v);
	return new Proxy(v, {
		get(t, k, r) {
			if (typeof k === "string")
				note.read.add(k);
			return watched(Reflect.get(t, k, r), seen);
		},
		has(t, k) {
			note.read.add(k);
			return Reflect.has(t, k);
		},
		ownKeys(t) {
			note.walked = true;
			return Reflect.ownKeys(t);
		},
	});
}

// The paths of the members of v that the validator never looked at.
function unknown(v, seen, path, out) {
	if (v === null || typeof v !== "object")
		return out;
	if (Array.isArray(v)) {
		v.forEach((e, i) => unknown(e, seen, `${path}/${i}`, out));
		return out;
	}
	const note = seen.get(v);
	for (const k of Object.keys(v)) {
		if (note !== undefined && !note.walked && !note.read.has(k))
			out.push(`${path}/${k}`);
		else
			unknown(v[k], seen, `${path}/${k}`, out);
	}
	return out;
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
		const seen = new Map();
		const what = `${where} (${o.kind} ${o.metadata?.name})`;
		const errs = [];
		try {
			M.prototype.validate.call(watched(o, seen));
		} catch (e) {
			errs.push(e.message);
		}
		const extra = unknown(o, seen, "", []);
		if (extra.length > 0)
			errs.push(`unknown field${extra.length > 1 ? "s" : ""} ` +
			    extra.map((p) => `data${p}`).join(", "));
		if (errs.length > 0) {
			console.log(`${what}: ${errs.join("; ")}`);
			bad++;
		}
	}
}
console.log(`${n} objects, ${bad} invalid`);
process.exit(bad > 0 ? 1 : 0);
