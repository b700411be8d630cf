// Validates every KEDA object in the rendered manifests (YAML on stdin, several documents)
// against the schemas @kubernetes-models/keda generates from KEDA's CRDs, and checks what the
// schemas cannot: each ScaledObject targets a Deployment in the same render and reads a queue,
// and each trigger's authentication exists. Prints one line per object; exits 1 on any problem.

import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { ScaledObject, TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1";

const docs = parseAllDocuments(readFileSync(0, "utf8")).map((d) => d.toJSON()).filter(Boolean);
const deployments = new Set(docs.filter((d) => d.kind === "Deployment").map((d) => d.metadata.name));
const auths = new Set(docs.filter((d) => d.kind === "TriggerAuthentication").map((d) => d.metadata.name));
const models = { ScaledObject, TriggerAuthentication };
let problems = 0;
let checked = 0;
for (const doc of docs) {
  if (!String(doc.apiVersion).startsWith("keda.sh/")) continue;
  const Model = models[doc.kind];
  const name = `${doc.kind}/${doc.metadata?.name}`;
  const errors = [];
  if (!Model) {
    errors.push(`no schema for ${doc.apiVersion} ${doc.kind}`);
  } else {
    try {
      new Model(doc).validate();
    } catch (e) {
      errors.push(e.message);
    }
  }
  if (doc.kind === "ScaledObject") {
    const target = doc.spec?.scaleTargetRef?.name;
    if (!deployments.has(target)) errors.push(`scaleTargetRef ${target} is not a Deployment here`);
    for (const t of doc.spec?.triggers || []) {
      if (t.type === "rabbitmq" && !t.metadata?.queueName) errors.push("rabbitmq trigger without queueName");
      const auth = t.authenticationRef?.name;
      if (auth && !auths.has(auth)) errors.push(`authenticationRef ${auth} is not defined`);
    }
  }
  checked += 1;
  if (errors.length) {
    problems += 1;
    console.log(`FAIL ${name}: ${errors.join("; ")}`);
  } else {
    console.log(`ok ${name}`);
  }
}
if (checked === 0) {
  console.log("FAIL no KEDA objects in the input");
  process.exit(1);
}
process.exit(problems ? 1 : 0);
