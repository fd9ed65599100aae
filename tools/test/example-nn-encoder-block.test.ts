import { describeExample } from '../readme/describe-example';

describeExample('nn-encoder-block');
