// The Store contract against the SQLite adapter: a real file in a fresh temp dir for every test.
import { makeTempStore } from "../helpers/tempStore.ts";
import { defineStoreContract } from "./storeContract.ts";

defineStoreContract({
  name: "sqlite",
  open: async () => {
    const temp = makeTempStore();
    return { store: temp.store, another: async () => temp.another(), dispose: temp.dispose };
  },
});
