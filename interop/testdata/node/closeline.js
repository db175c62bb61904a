// Prints the error Node's ws fails a connection with, as a log shows it
// (its name and message), then the code its close event gives, for the URL
// given as the first argument.
const WebSocket = require('ws');

const ws = new WebSocket(process.argv[2]);
ws.on('error', (err) => console.log(`${err.name}: ${err.message}`));
ws.on('close', (code) => {
  console.log(`close event code ${code}`);
  process.exit(0);
});
setTimeout(() => process.exit(1), 5000);
