// serverless-offline (renderVelocityTemplateObject) parses and compiles a template with velocityjs on
// every request, so this does too. Renders the AWS docs' PetStore template over the same 100 pets as
// benches/vtl_render.rs with velocityjs, as serverless-offline does
// (`$input.path` returns the parsed body). Prints ns/render, then the output.
const { render } = require("velocityjs");

const template = "#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"description\" : \"Item $elem.id is a $elem.type.\",\n    \"askingPrice\" : $elem.price\n  }#if($foreach.hasNext),#end\n\n#end\n]";
const kinds = ["dog", "cat", "fish", "bird"];
const items = [];
for (let i = 1; i <= 100; i++) {
  items.push(`{"id": ${i}, "type": "${kinds[i % kinds.length]}", "price": ${i * 10}.99}`);
}
const body = `[${items.join(", ")}]`;
const context = () => ({
  input: { path: () => JSON.parse(body), body },
});
const iterations = Number(process.argv[2] || 5000);
const once = () => render(template, context());
for (let i = 0; i < iterations / 10; i++) once();
const started = process.hrtime.bigint();
for (let i = 0; i < iterations; i++) once();
const elapsed = Number(process.hrtime.bigint() - started);
console.log((elapsed / iterations).toFixed(0));
process.stdout.write(once());
