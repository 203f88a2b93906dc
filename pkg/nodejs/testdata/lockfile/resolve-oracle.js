// For every installed package and each of its runtime dependency names,
// print "FROM DEP RESOLVED" using Node's own lookup (Module._nodeModulePaths).
const fs = require('fs'), path = require('path'), Module = require('module');
const root = process.cwd();
const lock = JSON.parse(fs.readFileSync('node_modules/.package-lock.json'));
const rootPkg = JSON.parse(fs.readFileSync('package.json'));
const froms = [''].concat(Object.keys(lock.packages).filter(k => k !== ''));
const out = [];
for (const from of froms.sort()) {
  const pj = JSON.parse(fs.readFileSync(path.join(root, from, 'package.json')));
  const names = new Set([...Object.keys(pj.dependencies || {}), ...Object.keys(pj.optionalDependencies || {}), ...Object.keys(pj.peerDependencies || {})]);
  for (const name of [...names].sort()) {
    let found = '-';
    for (const dir of Module._nodeModulePaths(path.join(root, from))) {
      if (fs.existsSync(path.join(dir, name, 'package.json'))) { found = path.relative(root, path.join(dir, name)); break; }
    }
    out.push(`${from || '.'} ${name} ${found}`);
  }
}
console.log(out.join('\n'));
