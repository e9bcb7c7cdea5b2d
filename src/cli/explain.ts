export { explain } from './inject.js';
