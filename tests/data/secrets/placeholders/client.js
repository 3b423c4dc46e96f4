// Look-alikes only
const apiKey = process.env.API_KEY;
const token = 'abcdefghijklmnopqrstuvwxyz';
const secret = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaa';
