// Minimal types for cytoscape-edgehandles 4 (the package ships none).
declare module "cytoscape-edgehandles" {
  import type cytoscape from "cytoscape";
  const ext: cytoscape.Ext;
  export default ext;
}
