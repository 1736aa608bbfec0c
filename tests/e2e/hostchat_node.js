// Host-chat room ids the way a Node ChurchApps server makes them (aes-256-ctr).
//   node hostchat_node.js encrypt <32-byte key> <serviceId>   -> base64(iv)|base64(body)
//   node hostchat_node.js decrypt <32-byte key> <room>        -> serviceId
"use strict";
const crypto = require("crypto");

const [mode, key, value] = process.argv.slice(2);
const keyBytes = Buffer.from(key, "utf8");

if (mode === "encrypt") {
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv("aes-256-ctr", keyBytes, iv);
  const body = Buffer.concat([cipher.update(value, "utf8"), cipher.final()]);
  process.stdout.write(iv.toString("base64") + "|" + body.toString("base64"));
} else if (mode === "decrypt") {
  const [ivText, bodyText] = value.split("|");
  const decipher = crypto.createDecipheriv("aes-256-ctr", keyBytes, Buffer.from(ivText, "base64"));
  const plain = Buffer.concat([decipher.update(Buffer.from(bodyText, "base64")), decipher.final()]);
  process.stdout.write(plain.toString("utf8"));
} else {
  process.stderr.write("usage: hostchat_node.js encrypt|decrypt <key> <value>\n");
  process.exit(2);
}
